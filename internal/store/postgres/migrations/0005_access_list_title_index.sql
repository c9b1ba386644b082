-- Access lists are found by their title, lower-cased (resource.TitleKey): index the lists written
-- before that index entry existed. New and updated lists are indexed as they are written.
INSERT INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'title', lower(data::jsonb -> 'spec' ->> 'title') FROM resources
  WHERE kind = 'access_list' AND COALESCE(data::jsonb -> 'spec' ->> 'title', '') != ''
  ON CONFLICT DO NOTHING;
