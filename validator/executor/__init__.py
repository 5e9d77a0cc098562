"""The offline executor: a durable journal with a local store, and playback to the Web API.

``run --offline`` lints a plan for offline use and queues it (journal + local store in one
transaction); ``sync`` plays it back idempotently; ``queue`` shows, retries and drops.
"""
