# Rendering report.html in headless Chromium (sourced after lib.sh by the report tests).
# chrome_render HTML SHOT [WIDTHxHEIGHT]: the rendered DOM into $WORK/dom.html, a
# screenshot into SHOT (kept in the build's meson-logs/ for a look), and a failure when
# Chromium is missing, fails, or logs a console error.
chrome_render() {
        _chrome=$(command -v chromium || true)
        [ -n "$_chrome" ] || fail "no chromium (scripts/install-deps.sh installs it)"
        mkdir -p "$(dirname "$2")"
        _size=${3:-1200,2000}
        for _mode in --dump-dom "--screenshot=$2"; do
                timeout 90 "$_chrome" --headless --no-sandbox --disable-gpu --disable-background-networking \
                        --disable-component-update --disable-sync --no-first-run \
                        --user-data-dir="$(mktemp -d "$WORK/chr.XXXXXX")" --enable-logging=stderr --v=0 \
                        --window-size="$_size" "$_mode" "file://$1" > "$WORK/chrome.out" 2>> "$WORK/chrome.log" ||
                        fail "chromium $_mode failed: $(tail -5 "$WORK/chrome.log")"
                if [ "$_mode" = --dump-dom ]; then mv "$WORK/chrome.out" "$WORK/dom.html"; fi
        done
        ! grep -E 'Uncaught|ERROR:CONSOLE' "$WORK/chrome.log" || fail "console errors in the report"
        [ -s "$2" ] || fail "no screenshot"
}
