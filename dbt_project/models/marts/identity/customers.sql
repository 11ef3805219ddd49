{#- The golden customer profile: one row per customer_id. Each attribute is
    chosen among the customer's records by the survivorship strategy set in
    this model's config.meta.survivorship (_identity__models.yml); the
    address fields are chosen together, from one record, as a group. All
    emails and phones are kept as lists. With var cdp__mask_pii the personal
    columns are masked (macros/mask_pii.sql), for non-production targets. -#}
{%- set survivorship = model.config.meta.get('survivorship', {}) %}
{%- set attributes = survivorship.get('attributes', {}) %}
{%- set address = survivorship.get('address', {'strategy': 'most_recent'}) %}
{%- set address_fields = ['address_line_1', 'postal_code', 'city', 'country_code'] %}
{%- set single_attributes = [
    'first_name', 'last_name', 'birth_date', 'email', 'phone_e164',
] %}
{%- set pii_kinds = {
    'first_name': 'name', 'last_name': 'name', 'birth_date': 'date',
    'email': 'email', 'phone_e164': 'phone', 'address_line_1': 'text',
    'postal_code': 'text',
} %}
with

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

customer_ids as (

    select * from {{ ref('int_identity_customer_ids') }}

),

customer_records as (

    select
        customer_ids.customer_id,
        customer_ids.customer_id_created_at,
        records.*
    from records
    inner join customer_ids
        on records.record_key = customer_ids.record_key

),
{%- for attribute in single_attributes %}
    {%- set rule = attributes.get(attribute, {'strategy': 'most_recent'}) %}

    {{ attribute }}_ranked as (

        select
            customer_id,
            {{ attribute }},
            row_number() over (
                partition by customer_id
                order by {{ cdp.identity_survivorship_order(
                rule.get('strategy', 'most_recent'),
                rule.get('source_priority', []),
                'value_frequency',
                'length(cast(' ~ attribute ~ ' as ' ~ dbt.type_string() ~ '))',
            ) }} asc
            ) as value_rank
        from (
            select
                customer_records.*,
                count(*) over (
                    partition by customer_records.customer_id, {{ attribute }}
                ) as value_frequency
            from customer_records
            where {{ attribute }} is not null
        ) as candidates

    ),
{%- endfor %}

address_ranked as (

    select
        customer_id,
        {{ address_fields | join(',\n        ') }},
        row_number() over (
            partition by customer_id
            order by {{ cdp.identity_survivorship_order(
                address.get('strategy', 'most_recent'),
                address.get('source_priority', []),
                'value_frequency',
                '(case when address_line_1 is not null then 1 else 0 end'
                ~ ' + case when postal_code is not null then 1 else 0 end'
                ~ ' + case when city is not null then 1 else 0 end'
                ~ ' + case when country_code is not null then 1 else 0 end)',
            ) }} asc
        ) as value_rank
    from (
        select
            customer_records.*,
            count(*) over (
                partition by
                    customer_records.customer_id,
                    customer_records.address_line_1,
                    customer_records.postal_code
            ) as value_frequency
        from customer_records
        where
            customer_records.address_line_1 is not null
            or customer_records.postal_code is not null
            or customer_records.city is not null
    ) as candidates

),

customer_summary as (

    select
        customer_id,
        min(customer_id_created_at) as customer_id_created_at,
        count(*) as record_count,
        min(updated_at) as first_seen_at,
        max(updated_at) as last_seen_at,
        {{ cdp.identity_list_agg(cdp.mask_pii('email', 'email')) }} as emails,
        {{ cdp.identity_list_agg(cdp.mask_pii('phone_e164', 'phone')) }} as phones,
        {{ cdp.identity_list_agg('source_name') }} as source_names
    from customer_records
    group by customer_id

),

final as (

    select
        customer_summary.customer_id,
        {%- for attribute in single_attributes %}
            {%- set column = attribute ~ '_ranked.' ~ attribute %}
            {{ cdp.mask_pii(column, pii_kinds[attribute]) }} as {{ attribute }},
        {%- endfor %}
        {%- for field in address_fields %}
            {%- set kind = pii_kinds.get(field) %}
            {%- if kind %}
                {{ cdp.mask_pii('address_ranked.' ~ field, kind) }} as {{ field }},
            {%- else %}
                address_ranked.{{ field }},
            {%- endif %}
        {%- endfor %}
        customer_summary.emails,
        customer_summary.phones,
        customer_summary.source_names,
        customer_summary.record_count,
        customer_summary.first_seen_at,
        customer_summary.last_seen_at,
        customer_summary.customer_id_created_at
    from
        customer_summary
    {%- for attribute in single_attributes %}
    left join {{ attribute }}_ranked
        on
            customer_summary.customer_id = {{ attribute }}_ranked.customer_id
            and {{ attribute }}_ranked.value_rank = 1
    {%- endfor %}
    left join address_ranked
        on
            customer_summary.customer_id = address_ranked.customer_id
            and address_ranked.value_rank = 1

)

select * from final
