"""Real-browser tests: headless Chromium driven by Playwright against the real server (`python wsgi.py`,
eventlet unless a test asks for both modes)."""
