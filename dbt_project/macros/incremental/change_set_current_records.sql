{#- Every identity record as the change set compares it from one build to the
    next: its key, a fingerprint of every attribute of the canonical person
    schema (int_identity_records_unioned) and of its identifiers declared in
    YAML (int_identity_identifiers_declared; a record without any keeps the
    fingerprint it had before they existed), and the customer it belongs to now.
    The model customer_change_set reads it, and its post-hook keeps it as the
    snapshot the next build compares with. -#}
{% macro change_set_current_records() -%}
    {{ return(adapter.dispatch('change_set_current_records', 'cdp')()) }}
{%- endmacro %}

{% macro default__change_set_current_records() -%}
    {%- set attributes = [
        'source_name', 'source_record_id', 'updated_at', 'email', 'phone_e164',
        'secondary_phone_e164', 'first_name', 'last_name', 'birth_date',
        'address_line_1', 'postal_code', 'city', 'country_code',
        'loyalty_number', 'shop_customer_id', 'shop_order_id',
        'crm_contact_id', 'email_subscriber_id', 'anonymous_id',
    ] -%}
    {%- set parts = [] -%}
    {%- for attribute in attributes -%}
        {%- do parts.append(
            "coalesce(cast(records." ~ attribute ~ " as " ~ dbt.type_string() ~ "), '<null>')"
        ) -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor %}
    {%- do parts.append("coalesce(" ~ dbt.concat(["'|'", 'declared.identifiers']) ~ ", '')") %}
    select
        records.record_key,
        {{ dbt.hash(dbt.concat(parts)) }} as record_fingerprint,
        customer_ids.customer_id
    from {{ ref('int_identity_records_unioned') }} as records
    inner join {{ ref('int_identity_customer_ids') }} as customer_ids
        on records.record_key = customer_ids.record_key
    left join (
        select
            record_key,
            {{ cdp.identity_sorted_string_agg(
                dbt.concat(['identifier_type', "'='", 'identifier_value']), "'|'"
            ) }} as identifiers
        from {{ ref('int_identity_identifiers_declared') }}
        group by record_key
    ) as declared
        on records.record_key = declared.record_key
{%- endmacro %}
