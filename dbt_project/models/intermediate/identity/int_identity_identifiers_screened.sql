{#- One row per identifier value used for linking (canonical email, phone),
    with how many records and how many people seem to share it, and whether
    it is blocked: it matches a pattern of the identity_blocked_values seed,
    or more than `max_people_per_identifier` people share it. People are
    counted by the distinct first letters of the first names on the records
    holding the value, folded to ASCII and nicknames resolved with the
    identity_name_aliases seed (Becky -> rebecca): typos rarely change the
    first letter, two people sharing a household email usually differ in it. -#}
{%- set settings = cdp.identity_match_config().settings %}
with

records as (

    select * from {{ ref('int_identity_records_unioned') }}

),

name_aliases as (

    select * from {{ ref('identity_name_aliases') }}

),

records_with_first_name_keys as (

    select
        records.*,
        coalesce(
            name_aliases.canonical_name,
            {{ cdp.identity_normalize('records.first_name', ['ascii', 'collapse_whitespace']) }}
        ) as first_name_key
    from records
    left join name_aliases
        on
            name_aliases.alias_name
            = {{ cdp.identity_normalize('records.first_name', ['ascii', 'collapse_whitespace']) }}

),

blocked_patterns as (

    select * from {{ ref('identity_blocked_values') }}

),

identifier_values as (

    select
        record_key,
        'email' as identifier_type,
        {{ cdp.identity_normalize('email', ['email_canonical']) }} as identifier_value,
        first_name_key
    from records_with_first_name_keys
    union all
    select
        record_key,
        'phone' as identifier_type,
        phone_e164 as identifier_value,
        first_name_key
    from records_with_first_name_keys
    union all
    select
        record_key,
        'phone' as identifier_type,
        secondary_phone_e164 as identifier_value,
        first_name_key
    from records_with_first_name_keys

),

value_counts as (

    select
        identifier_type,
        identifier_value,
        count(distinct record_key) as record_count,
        count(distinct substr(first_name_key, 1, 1))
            as people_count
    from identifier_values
    where identifier_value is not null
    group by identifier_type, identifier_value

),

pattern_hits as (

    select
        value_counts.identifier_type,
        value_counts.identifier_value,
        min(blocked_patterns.reason) as pattern_reason
    from value_counts
    inner join blocked_patterns
        on
            value_counts.identifier_type = blocked_patterns.identifier_type
            and {{ cdp.identity_matches_column_pattern(
                'value_counts.identifier_value', 'blocked_patterns.pattern'
            ) }}
    group by value_counts.identifier_type, value_counts.identifier_value

),

final as (

    select
        value_counts.identifier_type,
        value_counts.identifier_value,
        value_counts.record_count,
        value_counts.people_count,
        pattern_hits.pattern_reason is not null
        or value_counts.people_count > {{ settings.get('max_people_per_identifier', 3) }}
            as is_blocked,
        case
            when pattern_hits.pattern_reason is not null
                then 'blocklist: ' || pattern_hits.pattern_reason
            when value_counts.people_count > {{ settings.get('max_people_per_identifier', 3) }}
                then
                    'shared by more than '
                    || '{{ settings.get("max_people_per_identifier", 3) }} people'
        end as block_reason
    from value_counts
    left join pattern_hits
        on
            value_counts.identifier_type = pattern_hits.identifier_type
            and value_counts.identifier_value = pattern_hits.identifier_value

)

select * from final
