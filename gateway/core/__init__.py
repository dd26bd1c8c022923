"""Settings and identity every layer uses: config, the runtime, accounts, tokens."""
