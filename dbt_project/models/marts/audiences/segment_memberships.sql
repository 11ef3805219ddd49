{#- The current members of every segment (models with config.meta
    cdp_segment, found in the dbt graph), with the segment's audience meta
    and the member's consent eligibility per channel. dbt needs a model's
    parents before it runs, so each segment is also named in a `depends_on`
    line below; cdp.segments_registered() stops the build when one is
    missing, or when a segment does not return customer_id. -#}
-- depends_on: {{ ref('segment_cart_abandoners_7d') }}
-- depends_on: {{ ref('segment_high_value_churn_risk') }}
-- depends_on: {{ ref('segment_lapsed_buyers') }}
-- depends_on: {{ ref('segment_new_subscribers_no_purchase') }}
-- depends_on: {{ ref('segment_vip_loyalty_members') }}
-- depends_on: {{ ref('segment_win_back') }}
{%- set segments = cdp.segments_registered() %}

with

eligibility as (

    select * from {{ ref('customer_consent_eligibility') }}

),

members as (

    {%- for segment in segments %}
        {%- set audience_name = segment.meta.audience_name | replace("'", "''") %}
        {%- set segment_owner = segment.meta.owner | replace("'", "''") %}

        select distinct
            cast('{{ segment.name }}' as {{ dbt.type_string() }}) as segment_name,
            cast('{{ audience_name }}' as {{ dbt.type_string() }}) as audience_name,
            cast('{{ segment_owner }}' as {{ dbt.type_string() }}) as segment_owner,
            cast(customer_id as {{ dbt.type_string() }}) as customer_id
        from {{ ref(segment.name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not segments %}

        select
            cast(null as {{ dbt.type_string() }}) as segment_name,
            cast(null as {{ dbt.type_string() }}) as audience_name,
            cast(null as {{ dbt.type_string() }}) as segment_owner,
            cast(null as {{ dbt.type_string() }}) as customer_id
        where 1 = 0
    {%- endif %}

),

final as (

    select
        members.segment_name,
        members.audience_name,
        members.segment_owner,
        members.customer_id,
        {{ cdp.cdp_as_of_date() }} as as_of_date,
        coalesce(eligibility.is_email_marketing_eligible, false)
            as is_email_marketing_eligible,
        coalesce(eligibility.is_ads_personalisation_eligible, false)
            as is_ads_personalisation_eligible
    from members
    left join eligibility
        on members.customer_id = eligibility.customer_id

)

select * from final
