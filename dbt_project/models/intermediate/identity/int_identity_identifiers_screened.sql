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

records_with_normalized_first_names as (

    select
        record_key,
        email,
        phone_e164,
        secondary_phone_e164,
        {{ cdp.identity_normalize('first_name', ['ascii', 'collapse_whitespace']) }}
            as first_name_normalized
    from records

),

records_with_first_name_keys as (

    select
        records.*,
        coalesce(
            name_aliases.canonical_name, records.first_name_normalized
        ) as first_name_key
    from records_with_normalized_first_names as records
    left join name_aliases
        on records.first_name_normalized = name_aliases.alias_name

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

values_screened as (

    select
        identifier_type,
        identifier_value,
        record_count,
        people_count,
        {{ cdp.identity_blocked_pattern_reason(
            'identifier_type', 'identifier_value', ref('identity_blocked_values')
        ) }} as pattern_reason
    from value_counts

),

final as (

    select
        identifier_type,
        identifier_value,
        record_count,
        people_count,
        pattern_reason is not null
        or people_count > {{ settings.get('max_people_per_identifier', 3) }}
            as is_blocked,
        case
            when pattern_reason is not null
                then 'blocklist: ' || pattern_reason
            when people_count > {{ settings.get('max_people_per_identifier', 3) }}
                then
                    'shared by more than '
                    || '{{ settings.get("max_people_per_identifier", 3) }} people'
        end as block_reason
    from values_screened

)

select * from final
