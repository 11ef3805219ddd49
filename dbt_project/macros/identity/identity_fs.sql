{#- Fellegi-Sunter matching (issue #19), split as Splink splits it: one
    macro builds the blocked pairs, another gives a pair's level of one
    comparison. The configuration is the `identity_probabilistic` meta of
    model int_identity_pairs_probabilistic (_identity__probabilistic.yml). -#}
{% macro identity_fs_config() -%}
    {%- if not execute -%}
        {{ return({'blocking': [], 'comparisons': [], 'threshold': 0, 'prior_match_weight': 0,
                   'feed_edges': false, 'max_block_size': 5000}) }}
    {%- endif -%}
    {%- if 'nodes' not in graph -%}
        {#- a unit test has no graph: its overrides give the entry as a var -#}
        {{ return(cdp.identity_fs_validate(var('identity_probabilistic', {}))) }}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.name == 'int_identity_pairs_probabilistic' -%}
            {%- set config = node.config.meta.get('identity_probabilistic', none) -%}
            {%- if config is none -%}
                {{ exceptions.raise_compiler_error(
                    "identity probabilistic: model int_identity_pairs_probabilistic has no "
                    ~ "config.meta.identity_probabilistic entry (see _identity__probabilistic.yml)") }}
            {%- endif -%}
            {{ return(cdp.identity_fs_validate(cdp.identity_fs_overrides(config))) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return({'blocking': [], 'comparisons': [], 'threshold': 0, 'prior_match_weight': 0,
               'feed_edges': false, 'max_block_size': 5000}) }}
{%- endmacro %}

{#- The vars that override the YAML for one run (default unset):
    cdp__identity_probabilistic_feed_edges (feed_edges),
    cdp__identity_probabilistic_threshold (threshold) and
    cdp__identity_probabilistic_conflict_guard (false: no guard). -#}
{% macro identity_fs_overrides(config) -%}
    {%- set merged = {} -%}
    {%- do merged.update(config) -%}
    {%- set fed = var('cdp__identity_probabilistic_feed_edges', none) -%}
    {%- if fed is not none -%}
        {%- do merged.update({'feed_edges': fed in [true, 'true', 'True', 1]}) -%}
    {%- endif -%}
    {%- set threshold = var('cdp__identity_probabilistic_threshold', none) -%}
    {%- if threshold is not none -%}
        {%- do merged.update({'threshold': threshold | float}) -%}
    {%- endif -%}
    {%- set guarded = var('cdp__identity_probabilistic_conflict_guard', none) -%}
    {%- if guarded is not none and guarded not in [true, 'true', 'True', 1] -%}
        {%- do merged.update({'conflict_guard': []}) -%}
    {%- endif -%}
    {{ return(merged) }}
{%- endmacro %}

{#- A malformed entry stops the build with one line naming the place. -#}
{% macro identity_fs_validate(config) -%}
    {%- set where = 'identity probabilistic (_identity__probabilistic.yml): ' -%}
    {%- for key in ['threshold', 'blocking', 'comparisons'] -%}
        {%- if key not in config -%}
            {{ exceptions.raise_compiler_error(where ~ "missing '" ~ key ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for rule in config.blocking -%}
        {%- if not rule.get('name') or not rule.get('keys') -%}
            {{ exceptions.raise_compiler_error(where ~ "blocking rule " ~ loop.index ~ " needs a name and keys") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set attributes = config.comparisons | map(attribute='attribute') | list -%}
    {%- for rule in (config.get('training', {}) or {}).get('blocking', []) or [] -%}
        {%- if not rule.get('name') or not rule.get('keys') -%}
            {{ exceptions.raise_compiler_error(where ~ "training blocking rule " ~ loop.index ~ " needs a name and keys") }}
        {%- endif -%}
        {%- for name in rule.get('leave_out') or [] if name not in attributes -%}
            {{ exceptions.raise_compiler_error(where ~ "training blocking rule '" ~ rule.name
                ~ "': leave_out names '" ~ name ~ "', which is no comparison") }}
        {%- endfor -%}
    {%- endfor -%}
    {%- for guard in config.get('conflict_guard') or [] -%}
        {%- if not guard.get('name') or not guard.get('attributes') or guard.attributes is string -%}
            {{ exceptions.raise_compiler_error(where ~ "conflict_guard " ~ loop.index
                ~ " needs a name and a list of attributes") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set prior = config.get('prior_match_weight') -%}
    {%- if prior is not none and (prior is string or prior is mapping) -%}
        {{ exceptions.raise_compiler_error(where ~ "prior_match_weight must be a number (or left out to be "
            ~ "estimated), got '" ~ prior ~ "'") }}
    {%- endif -%}
    {%- for comparison in config.comparisons -%}
        {%- set label = "comparison '" ~ comparison.get('attribute', loop.index) ~ "'" -%}
        {%- if not comparison.get('attribute') or not comparison.get('levels') -%}
            {{ exceptions.raise_compiler_error(where ~ label ~ " needs an attribute and levels") }}
        {%- endif -%}
        {%- for level in comparison.levels -%}
            {%- if not level.get('name') -%}
                {{ exceptions.raise_compiler_error(where ~ label ~ ": level " ~ loop.index ~ " needs a name") }}
            {%- endif -%}
            {%- for key in ['m', 'u', 'm_start'] if level.get(key) is not none -%}
                {%- if level[key] is string or not (0 < level[key] <= 1) -%}
                    {{ exceptions.raise_compiler_error(where ~ label ~ ", level '" ~ level.name
                        ~ "': " ~ key ~ " must be a number in (0, 1], got '" ~ level[key] ~ "'") }}
                {%- endif -%}
            {%- endfor -%}
            {%- if level.get('comparison', 'else') not in ['exact', 'jaro_winkler', 'levenshtein', 'date_within', 'else'] -%}
                {{ exceptions.raise_compiler_error(where ~ label ~ ", level '" ~ level.name
                    ~ "': unknown comparison '" ~ level.comparison ~ "'") }}
            {%- endif -%}
            {%- if loop.last and level.get('comparison', 'else') != 'else' -%}
                {{ exceptions.raise_compiler_error(where ~ label ~ ": the last level must have no comparison (else)") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(config) }}
{%- endmacro %}

{#- One blocking key of a record, normalised, cut to its prefix. -#}
{% macro identity_fs_key(relation, key) -%}
    {%- set expression = relation ~ '.' ~ key.attribute -%}
    {%- if key.get('normalizers') -%}
        {%- set expression = cdp.identity_normalize(expression, key.normalizers) -%}
    {%- endif -%}
    {%- if key.get('prefix') -%}
        {%- set expression = 'substr(' ~ expression ~ ', 1, ' ~ key.prefix ~ ')' -%}
    {%- endif -%}
    {{ expression }}
{%- endmacro %}

{#- The blocked pairs, one row per pair (the first rule that made it):
    left_record_key < right_record_key, blocking_rule, rule order. Blocks
    of more than max_block_size records are skipped. `records` names the
    CTE of records. -#}
{% macro identity_fs_blocks(config, records) -%}
    {%- for rule in config.blocking %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        left_records.record_key as left_record_key,
        right_records.record_key as right_record_key,
        '{{ rule.name }}' as blocking_rule,
        {{ loop.index }} as blocking_order
    from (
        select
            {{ records }}.record_key,
            {%- for key in rule['keys'] %}
            {{ cdp.identity_fs_key(records, key) }} as block_key_{{ loop.index }},
            {%- endfor %}
            count(*) over (partition by
                {%- for key in rule['keys'] %} {{ cdp.identity_fs_key(records, key) }}{{ ',' if not loop.last }}{% endfor %}
            ) as block_size
        from {{ records }}
    ) as left_records
    inner join (
        select
            {{ records }}.record_key,
            {%- for key in rule['keys'] %}
            {{ cdp.identity_fs_key(records, key) }} as block_key_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ records }}
    ) as right_records
        on
            left_records.record_key < right_records.record_key
            {%- for key in rule['keys'] %}
            and left_records.block_key_{{ loop.index }} = right_records.block_key_{{ loop.index }}
            {%- endfor %}
    where left_records.block_size <= {{ config.get('max_block_size', 5000) }}
    {%- endfor %}
{%- endmacro %}

{#- The level name of one comparison for a pair: `null` when either side is
    null, else the first level whose comparison holds, else the last. -#}
{% macro identity_fs_level(comparison, left_expression, right_expression) -%}
    {%- set normalizers = comparison.get('normalizers', []) -%}
    {%- set left = cdp.identity_normalize(left_expression, normalizers) if normalizers else left_expression -%}
    {%- set right = cdp.identity_normalize(right_expression, normalizers) if normalizers else right_expression -%}
    case
        when {{ left }} is null or {{ right }} is null then 'null'
        {%- for level in comparison.levels if level.get('comparison', 'else') != 'else' %}
        when {{ cdp.identity_fs_level_holds(level, left, right) }} then '{{ level.name }}'
        {%- endfor %}
        else '{{ (comparison.levels | last).name }}'
    end
{%- endmacro %}

{#- Whether a level's comparison holds for two non-null values. -#}
{% macro identity_fs_level_holds(level, left, right) -%}
    {%- if level.comparison == 'exact' -%}
        {{ left }} = {{ right }}
    {%- elif level.comparison == 'jaro_winkler' -%}
        {{ cdp.identity_jaro_winkler(left, right) }} >= {{ level.threshold }}
    {%- elif level.comparison == 'levenshtein' -%}
        {{ cdp.identity_levenshtein(left, right) }} <= {{ level.threshold }}
    {%- elif level.comparison == 'date_within' -%}
        {{ cdp.identity_fs_days_between(left, right) }} <= {{ level.threshold }}
    {%- endif -%}
{%- endmacro %}

{#- Absolute number of days between two dates, per engine. -#}
{% macro identity_fs_days_between(left, right) -%}
    {{ return(adapter.dispatch('identity_fs_days_between', 'cdp')(left, right)) }}
{%- endmacro %}

{% macro default__identity_fs_days_between(left, right) -%}
    abs(date_diff('day', cast({{ left }} as date), cast({{ right }} as date)))
{%- endmacro %}

{% macro postgres__identity_fs_days_between(left, right) -%}
    abs(cast({{ left }} as date) - cast({{ right }} as date))
{%- endmacro %}

{% macro spark__identity_fs_days_between(left, right) -%}
    abs(datediff(cast({{ left }} as date), cast({{ right }} as date)))
{%- endmacro %}

