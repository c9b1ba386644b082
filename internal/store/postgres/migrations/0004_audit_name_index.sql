-- Audit entries are found by the name of their subject (the audit page's "object" search): index
-- the entries written before that index existed. New entries are indexed as they are written.
INSERT INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'name', data::jsonb -> 'spec' ->> 'name' FROM resources
  WHERE kind = 'audit_entry' AND COALESCE(data::jsonb -> 'spec' ->> 'name', '') != ''
  ON CONFLICT DO NOTHING;
