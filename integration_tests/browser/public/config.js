// The API this app talks to; whoever serves the built app may serve another config.js.
window.NUMBERS_ADMIN_CONFIG = { apiUrl: "http://localhost:8000" };
