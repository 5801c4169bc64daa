"""The durable job queue: a store the services call down into (enqueue in the caller's
transaction, claim, retry, dead letters), the job kinds and statuses, and the errors a job
raises to ask for a retry. It knows nothing of what a job does: `jobs/` runs them."""
