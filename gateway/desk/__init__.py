"""The domain rules of one account's tickets: tickets, participants, links, chains, timings, reports.

No I/O beyond the session handed in; nothing here knows how mail is sent.
"""
