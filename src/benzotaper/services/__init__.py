"""Application services: the use-cases every edge (CLI, pages, API) calls.

- :class:`~benzotaper.services.journal.JournalService`: record, take, correct, retract, status,
  today, save_plan and the journal's reads; one transaction per use-case.
- :class:`~benzotaper.services.care.CareService`: a clinician's looks at a shared patient, each
  checked and audited in one transaction.
"""
