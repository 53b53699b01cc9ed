# Debian's Chromium for the dashboard's browser test (Integration/Dashboard/DashboardBrowserSpecs): Playwright drives
# /usr/bin/chromium (never a downloaded browser); the test starts and stops it itself.
need_cmd chromium chromium
