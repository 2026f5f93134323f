import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  base: "./", // relative asset URLs: the build is served from any path
  build: { chunkSizeWarningLimit: 1500 }, // one chunk of react-admin and MUI, ~1 MB: fine here
});
