-- Sections were stored as the text of the Rust variant ("SkillsAndAbilities"); they are now
-- stored under an explicit, stable key ("skills_and_abilities", see Section::key).
UPDATE credentials SET section = CASE section
    WHEN 'Education' THEN 'education'
    WHEN 'Certification' THEN 'certification'
    WHEN 'Credentials' THEN 'credentials'
    WHEN 'Experience' THEN 'experience'
    WHEN 'SkillsAndAbilities' THEN 'skills_and_abilities'
    WHEN 'RelevantCoursework' THEN 'relevant_coursework'
    WHEN 'Activities' THEN 'activities'
    WHEN 'Licenses' THEN 'licenses'
    WHEN 'ProfessionalAffiliations' THEN 'professional_affiliations'
    WHEN 'Unassigned' THEN 'unassigned'
    ELSE section
END WHERE section IS NOT NULL;
UPDATE mapping_rules SET section = CASE section
    WHEN 'Education' THEN 'education'
    WHEN 'Certification' THEN 'certification'
    WHEN 'Credentials' THEN 'credentials'
    WHEN 'Experience' THEN 'experience'
    WHEN 'SkillsAndAbilities' THEN 'skills_and_abilities'
    WHEN 'RelevantCoursework' THEN 'relevant_coursework'
    WHEN 'Activities' THEN 'activities'
    WHEN 'Licenses' THEN 'licenses'
    WHEN 'ProfessionalAffiliations' THEN 'professional_affiliations'
    WHEN 'Unassigned' THEN 'unassigned'
    ELSE section
END WHERE section IS NOT NULL;
UPDATE resume_entries SET section = CASE section
    WHEN 'Education' THEN 'education'
    WHEN 'Certification' THEN 'certification'
    WHEN 'Credentials' THEN 'credentials'
    WHEN 'Experience' THEN 'experience'
    WHEN 'SkillsAndAbilities' THEN 'skills_and_abilities'
    WHEN 'RelevantCoursework' THEN 'relevant_coursework'
    WHEN 'Activities' THEN 'activities'
    WHEN 'Licenses' THEN 'licenses'
    WHEN 'ProfessionalAffiliations' THEN 'professional_affiliations'
    WHEN 'Unassigned' THEN 'unassigned'
    ELSE section
END WHERE section IS NOT NULL;
