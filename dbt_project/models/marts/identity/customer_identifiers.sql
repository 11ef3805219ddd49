{#- Every identifier known for a customer, one row per (customer, type,
    value), with when it was first and last seen on a record. Emails are the
    normalised addresses (as typed, trimmed, lower case); blocked values
    (placeholders, shared by too many people) are left out. The identifier
    types declared in YAML (int_identity_identifiers_declared) are listed
    too, every value of a record. With var cdp__mask_pii emails, phones and
    the declared identifiers marked pii are masked (macros/mask_pii.sql). -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

customer_ids as (

    select * from {{ ref('int_identity_customer_ids') }}

),

declared_identifiers as (

    select * from {{ ref('int_identity_identifiers_declared') }}

),

identifiers as (

    {%- set identifier_columns = [
        ('email', 'email'),
        ('phone', 'phone_e164'),
        ('phone', 'secondary_phone_e164'),
        ('loyalty_number', 'loyalty_number'),
        ('shop_customer_id', 'shop_customer_id'),
        ('crm_contact_id', 'crm_contact_id'),
        ('email_subscriber_id', 'email_subscriber_id'),
        ('anonymous_id', 'anonymous_id'),
    ] %}
    {%- for identifier_type, column_name in identifier_columns %}

        select
            record_key,
            updated_at,
            '{{ identifier_type }}' as identifier_type,
            {{ column_name }} as identifier_value,
            false as is_declared_pii
        from records
        where {{ column_name }} is not null
        union all
    {%- endfor %}

    select
        declared_identifiers.record_key,
        records.updated_at,
        declared_identifiers.identifier_type,
        declared_identifiers.identifier_value,
        declared_identifiers.is_pii as is_declared_pii
    from declared_identifiers
    inner join records
        on declared_identifiers.record_key = records.record_key

),

masked as (

    select
        record_key,
        updated_at,
        identifier_type,
        case identifier_type
            when 'email'
                then {{ cdp.mask_pii('identifier_value', 'email') }}
            when 'phone'
                then {{ cdp.mask_pii('identifier_value', 'phone') }}
            else
                case
                    when is_declared_pii
                        then {{ cdp.mask_pii('identifier_value', 'identifier') }}
                    else identifier_value
                end
        end as identifier_value
    from identifiers

),

final as (

    select
        customer_ids.customer_id,
        cast(masked.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(masked.identifier_value as {{ dbt.type_string() }}) as identifier_value,
        min(masked.updated_at) as first_seen_at,
        max(masked.updated_at) as last_seen_at,
        count(*) as record_count
    from masked
    inner join customer_ids
        on masked.record_key = customer_ids.record_key
    group by
        customer_ids.customer_id,
        masked.identifier_type,
        masked.identifier_value

)

select * from final
