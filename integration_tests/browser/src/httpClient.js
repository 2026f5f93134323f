import { fetchUtils, HttpError } from "react-admin";

const TOKEN_KEY = "numbers-admin.token";

export const tokenStore = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (token) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** The API's problem+json (RFC 9457) as react-admin's HttpError, its detail as the message. */
const fromProblem = (error) => {
  const problem = error instanceof HttpError ? error.body : undefined;
  if (typeof problem?.detail !== "string") return error;
  const { errors, ...rest } = problem;
  const [first] = Array.isArray(errors) ? errors : [];
  const where = (first?.pointer ?? "").replace(/^#\//, "") || first?.parameter;
  const message = first ? `${problem.detail} ${where}: ${first.detail}` : problem.detail;
  // Without `errors`: react-admin reads body.errors as its own {field: message} map.
  return new HttpError(message, error.status, rest);
};

/** fetchJson with the Bearer token, and the API's problems turned into readable errors. */
export const httpClient = async (url, options = {}) => {
  const headers = new Headers(options.headers ?? { Accept: "application/json" });
  const token = tokenStore.get();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  try {
    return await fetchUtils.fetchJson(url, { ...options, headers });
  } catch (error) {
    throw fromProblem(error);
  }
};
