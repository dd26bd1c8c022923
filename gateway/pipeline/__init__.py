"""The pipeline: one inbox item parsed, threaded and applied in one transaction.

`context` holds the contract every step shares (the `Inbound` context, `Step`,
the failures); `steps` holds the stages, one module each, and their order as
data (`steps.STEPS`); `runner` claims an item, parses it and runs the steps.
Nothing imports the runner but the application layer that wires it to a queue.
"""
