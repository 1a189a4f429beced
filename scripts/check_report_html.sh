#!/usr/bin/env bash
# Checks a `strand report --format html` page in a real browser (headless Chromium):
#   - the file is self-contained: no <script>, <link>, <iframe>, src= or url(...) at all;
#   - it loads without console messages (Chromium's stderr log, `:CONSOLE`), without errors
#     caught by the page (script errors, failed loads) and without any network request
#     (the Resource Timing list is empty);
#   - every inline SVG chart has a size (its bounding box, measured by the browser);
#   - optionally, at least N charts (--min-svgs N) and a PNG screenshot (--screenshot OUT.png).
#
# The measuring script is injected into a temporary copy (the report itself has none); it writes
# its findings into a <pre id="strand-check"> that `--dump-dom` prints.
#
# Usage: scripts/check_report_html.sh REPORT.html [--min-svgs N] [--screenshot OUT.png]
#                                               [--window-size W,H]
# Exit: 0 ok, 1 a check failed, 2 usage error, 3 no Chromium found (prints SKIP).
set -euo pipefail

report=""
min_svgs=1
screenshot=""
window="1280,2400"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --min-svgs) min_svgs="$2"; shift 2 ;;
        --screenshot) screenshot="$2"; shift 2 ;;
        --window-size) window="$2"; shift 2 ;;
        -h|--help) sed -n 2,17p "$0"; exit 0 ;;
        *) if [[ -z "$report" ]]; then report="$1"; shift; else echo "unexpected argument $1" >&2; exit 2; fi ;;
    esac
done
[[ -n "$report" && -f "$report" ]] || { echo "usage: $0 REPORT.html [--min-svgs N] [--screenshot OUT.png]" >&2; exit 2; }

browser="${CHROMIUM:-}"
if [[ -z "$browser" ]]; then
    for b in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
    done
fi
if [[ -z "$browser" ]]; then
    echo "SKIP: no chromium (set CHROMIUM=/path/to/chromium or install the chromium package)"
    exit 3
fi

fail=0
problem() { echo "FAIL: $*"; fail=1; }

# 1. Self-contained, statically.
for pattern in '<script' '<link' '<iframe' ' src=' 'url(' '@import'; do
    if grep -qiF -- "$pattern" "$report"; then
        problem "the report contains '$pattern' (it must be self-contained)"
    fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/probe.js" <<'PROBE'
<script>
window.__strandErrors=[];
window.addEventListener("error",function(e){var t=e.target;window.__strandErrors.push(t&&t!==window&&(t.src||t.href)?"load "+(t.src||t.href):"script "+e.message);},true);
window.addEventListener("load",function(){var o=[];
document.querySelectorAll("svg").forEach(function(s,i){var r=s.getBoundingClientRect();o.push("svg "+i+" "+Math.round(r.width)+" "+Math.round(r.height));});
performance.getEntriesByType("resource").forEach(function(e){o.push("request "+e.name);});
window.__strandErrors.forEach(function(e){o.push("error "+e);});
o.push("page "+document.documentElement.scrollWidth+" "+document.documentElement.scrollHeight);
var p=document.createElement("pre");p.id="strand-check";p.textContent="BEGIN-STRAND-CHECK\n"+o.join("\n")+"\nEND-STRAND-CHECK";document.body.appendChild(p);});
</script>
PROBE
# Insert the probe right after the first <head> (awk reads it from the file: no escapes).
awk 'NR == FNR { probe = probe $0 "\n"; next }
     !done && (i = index($0, "<head>")) { print substr($0, 1, i + 5) probe substr($0, i + 6); done = 1; next }
     { print }' "$tmp/probe.js" "$report" > "$tmp/probe.html"
grep -q 'BEGIN-STRAND-CHECK' "$tmp/probe.html" || problem "no <head> to inject the probe into"

flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions
       --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0)
if ! timeout 120 "$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom \
        "file://$tmp/probe.html" > "$tmp/dom.html" 2> "$tmp/stderr.txt"; then
    problem "$browser exited with an error (stderr: $tmp/stderr.txt)"
    tail -5 "$tmp/stderr.txt"
fi

# 2. Console messages (any: the page has no script of its own).
if grep -F ':CONSOLE' "$tmp/stderr.txt" > "$tmp/console.txt"; then
    problem "console messages:"
    cat "$tmp/console.txt"
fi

# 3. What the probe measured.
sed -n '/BEGIN-STRAND-CHECK/,/END-STRAND-CHECK/p' "$tmp/dom.html" > "$tmp/check.txt"
if ! grep -q 'END-STRAND-CHECK' "$tmp/check.txt"; then
    problem "the probe wrote nothing into the DOM (the page did not finish loading?)"
fi
if grep -E '^(error|request) ' "$tmp/check.txt"; then
    problem "errors or network requests while loading (above)"
fi
n_svg=$(grep -c '^svg ' "$tmp/check.txt" || true)
empty=$(awk '$1 == "svg" && ($3 < 10 || $4 < 10)' "$tmp/check.txt")
if [[ -n "$empty" ]]; then
    problem "charts without size (index width height):"
    echo "$empty"
fi
if (( n_svg < min_svgs )); then
    problem "$n_svg charts, expected at least $min_svgs"
fi
sizes=$(awk '$1 == "svg" { print $3 "x" $4 }' "$tmp/check.txt" | sort | uniq -c | awk '{ printf "%s%s × %s", sep, $1, $2; sep=", " }')
page=$(awk '$1 == "page" { print $2 "x" $3 }' "$tmp/check.txt")

# 4. Screenshot of the report itself (not the probed copy).
if [[ -n "$screenshot" ]]; then
    abs_report="$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
    mkdir -p "$(dirname "$screenshot")"
    abs_shot="$(cd "$(dirname "$screenshot")" && pwd)/$(basename "$screenshot")"
    if timeout 120 "$browser" "${flags[@]}" --hide-scrollbars --window-size="$window" \
            --screenshot="$abs_shot" "file://$abs_report" > /dev/null 2>> "$tmp/stderr.txt" \
            && [[ -s "$abs_shot" ]]; then
        echo "screenshot: $screenshot ($window)"
    else
        problem "no screenshot written to $screenshot"
    fi
fi

if (( fail )); then
    exit 1
fi
echo "OK: $report loads in $("$browser" --version 2>/dev/null | head -1) without console messages, errors or network requests; $n_svg charts with size ($sizes px); page $page px"
