-- When a stored copy was last confirmed unchanged by a conditional request (304): its fetched_at moves too.
ALTER TABLE pages ADD COLUMN revalidated_at timestamptz;
