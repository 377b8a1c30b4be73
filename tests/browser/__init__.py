"""Real-browser tests of the patient form: Playwright driving the system Chromium."""
