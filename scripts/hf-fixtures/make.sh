#!/usr/bin/env bash
# Regenerates the committed Hugging Face reference fixtures under test/fixtures/hf/.
#   scripts/hf-fixtures/make.sh              all fixtures
#   scripts/hf-fixtures/make.sh olmoe        one fixture (mixtral also writes mixtral_bf16/_f16; *_yarn: YaRN rope)
# Creates .venv-hf/ in the repository root (git-ignored) on first use; npm test never needs it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.venv-hf"
here="$root/scripts/hf-fixtures"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
installed() {
  "$venv/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
assert version("transformers") == "4.57.6" and version("torch").startswith("2.13.0")
PY
}
if ! installed; then
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  # transformers 4.57 saves MoE experts one tensor each (experts.N.w1.weight), as hub checkpoints are;
  # 5.x stacks them, so 4.57.6 is pinned. Its metadata asks for huggingface-hub < 1, which the local
  # index lacks; nothing here needs it (make_fixtures.py explains), so it goes in without deps.
  "$venv/bin/pip" install --quiet --no-deps "transformers==4.57.6"
fi
cd "$root"
# One thread keeps every float64 reduction in one order, so reruns write identical files.
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" "$here/make_fixtures.py" "$@"
# Gradients of each f32 fixture's prompt loss, from torch's autograd (test/hf/training.test.ts).
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" "$here/make_grads.py"
