import { apiUrl } from "./config";
import { httpClient, tokenStore } from "./httpClient";

const USER_KEY = "numbers-admin.username";

/** Logs in with POST /auth/token and keeps the Bearer token; a 401 from the API logs out. */
export const authProvider = {
  login: async ({ username, password }) => {
    tokenStore.clear();
    const { json } = await httpClient(`${apiUrl}/auth/token`, {
      method: "POST",
      body: JSON.stringify({ username, password }),
    });
    tokenStore.set(json.access_token);
    localStorage.setItem(USER_KEY, username);
  },
  logout: async () => {
    tokenStore.clear();
    localStorage.removeItem(USER_KEY);
  },
  checkAuth: async () => {
    if (!tokenStore.get()) throw new Error("Please log in");
  },
  checkError: async (error) => {
    if (error?.status === 401) {
      tokenStore.clear();
      throw new Error("Your session has ended; please log in again");
    }
  },
  getIdentity: async () => {
    const username = localStorage.getItem(USER_KEY);
    return { id: username, fullName: username };
  },
};
