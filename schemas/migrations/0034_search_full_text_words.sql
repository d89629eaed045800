-- Full text of guides in search (issue 19): the words citizens use when
-- asking what to bring ("要带户口本吗", "办营业执照要什么材料") beside the
-- catalogue's own (户口簿, 营业执照). Administrators maintain both lists.
INSERT OR IGNORE INTO search_thesaurus (term, official) VALUES
    ('户口本', '户口簿'), ('户口薄', '户口簿'), ('户口页', '户口簿'),
    ('办营业执照', '营业执照'), ('房本', '不动产'), ('结婚证书', '结婚证');

-- Questions about what to bring: the words around the material.
INSERT OR IGNORE INTO search_stop_words (word) VALUES
    ('要带'), ('带上'), ('要不要'), ('用不用'), ('需要什么材料'), ('需要哪些材料'), ('要什么材料'),
    ('要哪些材料'), ('什么材料'), ('哪些材料'), ('事项');
