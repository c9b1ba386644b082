-- Access lists are found by their title, lower-cased (resource.TitleKey): index the lists written
-- before that index entry existed. New and updated lists are indexed as they are written. SQLite's
-- lower() folds ASCII letters only: a title written before this migration whose non-ASCII letters
-- are upper-case is indexed as it is, and found by a search in that case only until it is next
-- written.
INSERT OR IGNORE INTO resource_index (kind, name, key, value)
  SELECT kind, name, 'title', lower(json_extract(data, '$.spec.title')) FROM resources
  WHERE kind = 'access_list' AND COALESCE(json_extract(data, '$.spec.title'), '') != '';
