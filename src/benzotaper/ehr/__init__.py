"""benzotaper inside a clinic's EHR: FHIR patient data in, decisions from the core, FHIR out.

- :mod:`~benzotaper.ehr.rules`: the names and codes used to recognise facts in FHIR data;
- :mod:`~benzotaper.ehr.record`: a patient's FHIR resources read into the core's terms;
- :mod:`~benzotaper.ehr.taper`: the plan for that patient, from the planner;
- :mod:`~benzotaper.ehr.draft`: a plan as R4 draft MedicationRequests, one per step;
- :mod:`~benzotaper.ehr.cards`: CDS Hooks cards decided by the core's risk rules;
- :mod:`~benzotaper.ehr.hooks`: the CDS Hooks 2.0 services (discovery, prefetch, fetching);
- :mod:`~benzotaper.ehr.feedback`: card outcomes the EHR reports back (stored);
- :mod:`~benzotaper.ehr.smart`: the SMART App Launch client (Authlib).

Nothing here decides anything clinical: the risk rules and the planner do.
"""
