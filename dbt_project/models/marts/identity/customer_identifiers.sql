{#- Every identifier known for a customer, one row per (customer, type,
    value), with when it was first and last seen on a record. Emails are the
    normalised addresses (as typed, trimmed, lower case); blocked values
    (placeholders, shared by too many people) are left out. With var
    cdp__mask_pii emails and phones are masked (macros/mask_pii.sql). -#}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

customer_ids as (

    select * from {{ ref('int_identity_customer_ids') }}

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
            {{ column_name }} as identifier_value
        from records
        where {{ column_name }} is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        customer_ids.customer_id,
        cast(identifiers.identifier_type as {{ dbt.type_string() }}) as identifier_type,
        cast(
            case identifiers.identifier_type
                when 'email'
                    then {{ cdp.mask_pii('identifiers.identifier_value', 'email') }}
                when 'phone'
                    then {{ cdp.mask_pii('identifiers.identifier_value', 'phone') }}
                else identifiers.identifier_value
            end as {{ dbt.type_string() }}
        ) as identifier_value,
        min(identifiers.updated_at) as first_seen_at,
        max(identifiers.updated_at) as last_seen_at,
        count(*) as record_count
    from identifiers
    inner join customer_ids
        on identifiers.record_key = customer_ids.record_key
    group by
        customer_ids.customer_id,
        identifiers.identifier_type,
        identifiers.identifier_value

)

select * from final
