"""What tests/ and scripts/ both drive chatapp with: a migrated database, the real server in a subprocess, Chromium.

Neither the app nor its tests: it imports chatapp, never tests/ or scripts/. The pytest fixtures stay in tests/conftest.py and
use these; scripts/ (the screenshots) use them without pytest.

    database.py  PASSWORD, base_config(), migrated_database()
    forms.py     csrf_token_from(): the CSRF token of a rendered form
    live.py      LiveServer: `python wsgi.py` on a free port and its own SQLite file;
                 logged_in_session(), socket_headers(): a login over HTTP, carried to a socket
    browser.py   headless Chromium, log_in(), ChatPage (one person on one room page)
    processes.py Redis, PostgreSQL, nginx and app processes (AppProcess: the one way to start
                 `python wsgi.py`), the Cluster of them all; `make cluster` and tests/cluster/
"""
