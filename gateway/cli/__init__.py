"""The operator's command line: `relaydesk …` commands, doctor, tables."""
