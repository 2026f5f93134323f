// Read once at start-up from public/config.js, which the server of the built app may replace.
export const apiUrl = window.NUMBERS_ADMIN_CONFIG.apiUrl.replace(/\/+$/, "");
