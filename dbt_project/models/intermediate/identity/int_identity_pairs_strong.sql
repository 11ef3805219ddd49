{#- The record pairs the strong rules link (every rule without a
    max_people_per_value condition), with the rule and the score, computed
    once: int_identity_edges_strong takes them as the links whose components
    count the people holding a value, and int_identity_edges_matched takes
    them beside the weak rules' pairs (which need those counts), instead of
    each model blocking and comparing every strong rule again. -#}
{%- set identity_config = cdp.identity_match_config() %}
{%- set strong_rules = cdp.identity_strong_rules(identity_config) %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

name_aliases as (

    select * from {{ ref('identity_name_aliases') }}

),
{%- for rule in strong_rules %}

    {{ cdp.identity_rule_pairs(rule, identity_config.settings.max_block_size) }},
{%- endfor %}

final as (

    {%- for rule in strong_rules %}

        select * from rule_{{ rule.name }}__pairs
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

)

select * from final
