"""The journal's pure core: entry models, scale scoring, sleep metrics, adherence and the
adaptive-tapering rules. No I/O here: definitions, rules and ``today`` come in as arguments."""
