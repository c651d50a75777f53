#!/bin/sh
# The README's two commands and .ci/run must be the same commands, so CI
# proves exactly what the README promises.
set -u
src=${DA_TEST_TOP_SRCDIR:?}
readme=$(sed -n '/^```sh$/,/^```$/p' "$src/README.md" | grep -v '^```' | head -2)
ci=$(grep -vE '^(#|set |cd |$)' "$src/.ci/run")
if [ "$readme" = "$ci" ] && [ "$(printf '%s\n' "$ci" | wc -l)" -eq 2 ]; then
	echo "PASS: README and .ci/run run the same two commands"
	echo "1 passed, 0 failed"
	exit 0
fi
echo "FAIL: README and .ci/run differ"
echo "README:"; printf '%s\n' "$readme"
echo ".ci/run:"; printf '%s\n' "$ci"
echo "0 passed, 1 failed"
exit 1
