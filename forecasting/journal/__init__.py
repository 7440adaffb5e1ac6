"""The append-only, hash-chained journal and the frames read from it."""

from .store import GENESIS, KINDS, Journal, Record, VerifyResult, record_hash

__all__ = ["GENESIS", "KINDS", "Journal", "Record", "VerifyResult", "record_hash"]
