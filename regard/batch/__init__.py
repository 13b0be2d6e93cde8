"""Batch jobs: bulk enrollment of a folder tree or a manifest, and the embedding stage of a fairness audit.

They run on Ray Data (``map_batches`` over an actor pool, each actor holding
its onnxruntime sessions) or on plain worker processes, keep a journal so a
job killed midway resumes where it stopped, and report what they skipped and
why.  Enrollment goes through ``Regard.enroll`` with the caller's context:
purpose, consent, scale limits and the ledger apply as to any other call.
"""
