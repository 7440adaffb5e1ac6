#!/usr/bin/env bash
# Execute the worked notebooks (notebooks/NN_*.py, jupytext percent format) and write each one,
# with its outputs, as reports/notebooks/NN_*.html.
#
#   bash scripts/notebooks.sh                 # all notebooks
#   bash scripts/notebooks.sh 02 04           # only those whose names start with 02 or 04
#
# Needs jupytext, nbclient, ipykernel and nbconvert in .venv (the dev extra). Notebooks 03 and
# 04 read ../shared/data; without it they run and say so at the top instead of showing results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! .venv/bin/python -c 'import nbconvert' 2>/dev/null; then
  echo "error: nbconvert is not installed in .venv; run: .venv/bin/pip install 'nbconvert>=7.16'" >&2
  exit 1
fi
# the kernel picks the inline backend (figures as PNG outputs) only when no backend is forced
unset MPLBACKEND
out=reports/notebooks
mkdir -p "$out"
shopt -s nullglob
notebooks=(notebooks/[0-9][0-9]_*.py)
if [ "$#" -gt 0 ]; then
  wanted=()
  for nb in "${notebooks[@]}"; do
    for prefix in "$@"; do
      case "$(basename "$nb")" in "$prefix"*) wanted+=("$nb") ;; esac
    done
  done
  notebooks=("${wanted[@]}")
fi
if [ "${#notebooks[@]}" -eq 0 ]; then
  echo "error: no notebook matches: $*" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# JupyterLab's HTML look, without the scripts it would fetch from a CDN (require.js, MathJax,
# mermaid): the notebooks need none of them, so each page is complete offline
cat >"$scratch/offline.html.j2" <<'TEMPLATE'
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
TEMPLATE
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb" .py)
  start=$SECONDS
  .venv/bin/jupytext --quiet --to ipynb --output "$scratch/$name.ipynb" "$nb"
  # executed in a scratch folder: the notebooks write only to temporary workspaces
  .venv/bin/jupyter nbconvert --log-level=WARN --execute --to html \
    --template lab --template-file "$scratch/offline.html.j2" \
    --ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
    --output-dir "$out" --output "$name" "$scratch/$name.ipynb"
  echo "$out/$name.html ($((SECONDS - start)) s)"
done
