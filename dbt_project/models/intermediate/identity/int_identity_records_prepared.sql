{#- The records match rules compare: every identity-source record, with
    emails and phones that are blocked (placeholder, blocklisted pattern or
    shared by too many people; see int_identity_identifiers_screened) taken
    out, so they can never link anything; and one column per identifier type
    declared in YAML (int_identity_identifiers_declared; a record holding
    several values of a type carries the smallest), which match rules name as
    attributes. -#}
-- depends_on: {{ ref('int_identity_identifiers_declared') }}
{%- set declared_types = cdp.identity_declared_types() %}
with

records as (

    select * from {{ ref('int_identity_records_unioned') }}

),

screened as (

    select * from {{ ref('int_identity_identifiers_screened') }}

),

emails as (

    select * from screened
    where identifier_type = 'email'

),

phones as (

    select * from screened
    where identifier_type = 'phone'

),

{%- if declared_types %}

declared_identifiers as (

    select
        record_key,
        {%- for identifier_type in declared_types %}
        min(
            case when identifier_type = '{{ identifier_type }}' then identifier_value end
        ) as {{ identifier_type }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_identity_identifiers_declared') }}
    group by record_key

),
{%- endif %}

final as (

    select
        records.record_key,
        records.source_name,
        records.source_record_id,
        records.updated_at,
        case when not emails.is_blocked then records.email end as email,
        case when not phones.is_blocked then records.phone_e164 end as phone_e164,
        case
            when not secondary_phones.is_blocked then records.secondary_phone_e164
        end as secondary_phone_e164,
        records.first_name,
        records.last_name,
        records.birth_date,
        records.address_line_1,
        records.postal_code,
        records.city,
        records.country_code,
        records.loyalty_number,
        records.shop_customer_id,
        records.shop_order_id,
        records.crm_contact_id,
        records.email_subscriber_id,
        records.anonymous_id,
        {%- for identifier_type in declared_types %}
        declared_identifiers.{{ identifier_type }},
        {%- endfor %}
        coalesce(emails.is_blocked, false)
        or coalesce(phones.is_blocked, false)
        or coalesce(secondary_phones.is_blocked, false) as has_blocked_identifier
    from records
    left join emails
        on
            {{ cdp.identity_normalize('records.email', ['email_canonical']) }}
            = emails.identifier_value
    left join phones
        on records.phone_e164 = phones.identifier_value
    left join phones as secondary_phones
        on records.secondary_phone_e164 = secondary_phones.identifier_value
    {%- if declared_types %}
    left join declared_identifiers
        on records.record_key = declared_identifiers.record_key
    {%- endif %}

)

select * from final
