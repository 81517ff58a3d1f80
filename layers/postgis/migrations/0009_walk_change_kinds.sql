-- 0009: the walking network's change kinds (scenarios/scenario.go, Kinds): a footpath or
-- footbridge added, a street closed to pedestrians. The check of 0002 named the kinds of
-- its day; it is replaced by one naming them all.

ALTER TABLE scenario_changes DROP CONSTRAINT scenario_changes_kind_check;

ALTER TABLE scenario_changes ADD CONSTRAINT scenario_changes_kind_check
    CHECK (kind IN ('add_building', 'modify_building', 'demolish_building', 'rezone',
                    'add_facility', 'modify_facility', 'remove_facility', 'add_green_space',
                    'remove_green_space', 'set_broadband', 'add_footpath', 'close_street'));
