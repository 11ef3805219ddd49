{#- Links made by the strong rules alone (every rule without a
    max_people_per_value condition), plus a self-link per record. Their
    connected components (int_identity_clusters_strong) tell how many
    different people hold an email or phone (int_identity_identifier_people),
    which the weak rules, those trusting a value held by one person only,
    then rely on. -#}
{%- set identity_config = cdp.identity_match_config() %}
{%- set strong_rules = [] %}
{%- for rule in identity_config.rules %}
    {%- set limited = [] %}
    {%- for condition in rule.conditions if condition.max_people_per_value is not none %}
        {%- do limited.append(condition) %}
    {%- endfor %}
    {%- if limited | length == 0 %}{% do strong_rules.append(rule) %}{% endif %}
{%- endfor %}
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

        select
            left_record_key as node_a,
            right_record_key as node_b
        from rule_{{ rule.name }}__pairs
        union all
    {%- endfor %}

    select
        record_key as node_a,
        record_key as node_b
    from records

)

select * from final
