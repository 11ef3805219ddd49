{#- Every registered identity source (a model whose config.meta has
    identity_source: true), unioned on the canonical person schema, with a
    record_key '<source_name>:<source_record_id>' unique across sources.

    The sources are found in the dbt graph when the model runs. dbt needs to
    know a model's parents before it runs, so each source is also named in a
    `depends_on` line below; the check at the end stops the build when a
    registered source is missing there (or a listed one is not registered). -#}
-- depends_on: {{ ref('int_identity_source__consent_events') }}
-- depends_on: {{ ref('int_identity_source__crm_contacts') }}
-- depends_on: {{ ref('int_identity_source__email_subscribers') }}
-- depends_on: {{ ref('int_identity_source__loyalty_members') }}
-- depends_on: {{ ref('int_identity_source__shop_customers') }}
-- depends_on: {{ ref('int_identity_source__shop_orders') }}
-- depends_on: {{ ref('int_identity_source__support_tickets') }}
-- depends_on: {{ ref('int_identity_source__web_events') }}
{%- set identity_sources = cdp.identity_registered_sources() %}

with

unioned as (

    {%- for source_model in identity_sources %}

        select
            source_name,
            source_record_id,
            updated_at,
            email,
            phone_e164,
            secondary_phone_e164,
            first_name,
            last_name,
            birth_date,
            address_line_1,
            postal_code,
            city,
            country_code,
            loyalty_number,
            shop_customer_id,
            shop_order_id,
            crm_contact_id,
            email_subscriber_id,
            anonymous_id
        from {{ ref(source_model) }}
        {%- if not loop.last %}

            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        source_name || ':' || source_record_id as record_key,
        *
    from unioned

)

select * from final
