"""Real-browser tests: headless Chromium driven by Playwright against the real eventlet server."""
