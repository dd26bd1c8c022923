"""Where inbound units arrive: SMTP, IMAP, intake.  A channel stores the raw unit durably, then acknowledges.

A channel decides nothing about tickets; it is handed an `enqueue` callable
by the application layer and never reaches into it.
"""
