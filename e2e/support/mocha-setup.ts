/** Loaded by mocha before any spec (.mocharc.json "require"): quiet logs unless asked for. */
process.env.WARP_LOG_LEVEL ??= "warn";
