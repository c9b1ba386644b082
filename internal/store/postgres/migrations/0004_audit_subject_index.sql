-- Audit entries are found by their subject's name (the audit page's object search: name) and by
-- kind and name together (a list's history: subject, "<kind>:<name>"): index the entries written
-- before those index entries existed. New entries are indexed as they are written.
INSERT INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'name', data::jsonb -> 'spec' ->> 'name' FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(data::jsonb -> 'spec' ->> 'name', '') != ''
  ON CONFLICT DO NOTHING;
INSERT INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'subject', (data::jsonb -> 'spec' ->> 'kind') || ':' || (data::jsonb -> 'spec' ->> 'name') FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(data::jsonb -> 'spec' ->> 'name', '') != '' AND COALESCE(data::jsonb -> 'spec' ->> 'kind', '') != ''
  ON CONFLICT DO NOTHING;
