{#- The review queue (`cdp identity review`): record pairs identity
    resolution is least sure about, with both records side by side.

    * probabilistic: pairs of int_identity_pairs_probabilistic whose match
      weight is within `probabilistic_weight_band` of the threshold (either
      side), with every comparison's level and partial weight;
    * fuzzy_rule: links of int_identity_edges_matched made by a rule whose
      fuzzy conditions are all Jaro-Winkler, whose score (the lowest
      similarity of those conditions) is below the rule's smallest
      threshold plus `fuzzy_score_band`: linked, but barely. Levenshtein
      rules are not queued (their score is not on the threshold's scale).

    A pair decided by an analyst (a row of identity_always_match or
    identity_never_match, either order) is not queued. The bands are the
    `identity_review` meta of this model (_identity_review__models.yml). -#}
-- Jinja loops over the comparisons and rules: sqlfluff's indentation rule
-- cannot follow them.
-- noqa: disable=LT02
{%- set review = cdp.identity_review_config(model.config.meta if execute else {}) %}
{%- set fs = cdp.identity_fs_config() %}
{%- set match = cdp.identity_match_config() %}
{%- set fuzzy_rules = [] %}
{%- for rule in match.rules %}
    {%- set fuzzy = rule.conditions
        | rejectattr('comparison', 'equalto', 'exact') | list %}
    {%- set levenshtein = fuzzy
        | selectattr('comparison', 'equalto', 'levenshtein') | list %}
    {%- if fuzzy and not levenshtein %}
        {%- do fuzzy_rules.append({
            'name': rule.name,
            'minimum': fuzzy | map(attribute='threshold') | min,
        }) %}
    {%- endif %}
{%- endfor %}
with

probabilistic_pairs as (

    select * from {{ ref('int_identity_pairs_probabilistic') }}

),

matched_edges as (

    select * from {{ ref('int_identity_edges_matched') }}

),

records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

source_records as (

    select * from {{ ref('customer_source_records') }}

),

always_match as (

    select * from {{ ref('identity_always_match') }}

),

never_match as (

    select * from {{ ref('identity_never_match') }}

),

override_pairs as (

    select
        left_source_name || ':' || left_source_record_id as first_record_key,
        right_source_name || ':' || right_source_record_id as second_record_key
    from always_match
    union all
    select
        left_source_name || ':' || left_source_record_id as first_record_key,
        right_source_name || ':' || right_source_record_id as second_record_key
    from never_match

),

decided_pairs as (

    -- in the order the pairs carry theirs: the smaller key left
    select distinct
        case
            when first_record_key < second_record_key then first_record_key
            else second_record_key
        end as left_record_key,
        case
            when first_record_key < second_record_key then second_record_key
            else first_record_key
        end as right_record_key
    from override_pairs

),

probabilistic_candidates as (

    select
        'probabilistic' as review_kind,
        left_record_key,
        right_record_key,
        blocking_rule as rule_name,
        cast(match_weight as {{ cdp.type_double() }}) as score,
        cast({{ fs.threshold }} as {{ cdp.type_double() }}) as threshold,
        {%- if fs.comparisons %}
        {%- for comparison in fs.comparisons %}
        '{{ comparison.attribute }}=' || {{ comparison.attribute }}_level
        || ' (' || cast(cast({{ comparison.attribute }}_weight as decimal(10, 4))
            as {{ dbt.type_string() }}) || ')'
        {{- " || '; ' ||" if not loop.last }}
        {%- endfor %}
        {%- else %}
        cast(null as {{ dbt.type_string() }})
        {%- endif %} as comparison_levels
    from probabilistic_pairs
    where
        match_weight >= {{ fs.threshold - review.probabilistic_weight_band }}
        and match_weight <= {{ fs.threshold + review.probabilistic_weight_band }}

),

fuzzy_candidates as (

    select
        'fuzzy_rule' as review_kind,
        left_record_key,
        right_record_key,
        rule_name,
        cast(score as {{ cdp.type_double() }}) as score,
        cast(case
            {%- for rule in fuzzy_rules %}
            when rule_name = '{{ rule.name }}' then {{ rule.minimum }}
            {%- endfor %}
        end as {{ cdp.type_double() }}) as threshold,
        cast(null as {{ dbt.type_string() }}) as comparison_levels
    from matched_edges
    where
        {%- if fuzzy_rules %}
        {%- for rule in fuzzy_rules %}
        (
            rule_name = '{{ rule.name }}'
            and score < {{ rule.minimum + review.fuzzy_score_band }}
        )
        {{- ' or' if not loop.last }}
        {%- endfor %}
        {%- else %}
        1 = 0
        {%- endif %}

),

candidates as (

    select * from probabilistic_candidates
    union all
    select * from fuzzy_candidates

),

undecided as (

    select candidates.*
    from candidates
    left join decided_pairs as decided
        on
            candidates.left_record_key = decided.left_record_key
            and candidates.right_record_key = decided.right_record_key
    where decided.left_record_key is null

),

ranked as (

    select
        *,
        row_number() over (
            partition by left_record_key, right_record_key
            order by review_kind asc
        ) as kind_rank
    from undecided

),

edge_ends as (

    select left_record_key as record_key from matched_edges
    union all
    select right_record_key as record_key from matched_edges

),

record_links as (

    select
        record_key,
        count(*) as link_count
    from edge_ends
    group by record_key

),

final as (

    select
        'rp_' || substr(
            {{ dbt.hash("ranked.left_record_key || '|' || ranked.right_record_key") }},
            1, 12
        ) as pair_id,
        ranked.review_kind,
        ranked.rule_name,
        cast(ranked.score as real) as score,
        cast(ranked.threshold as real) as threshold,
        cast(ranked.score - ranked.threshold as real) as distance_from_threshold,
        ranked.comparison_levels,
        coalesce(
            left_customers.customer_id = right_customers.customer_id, false
        ) as is_same_customer,
        ranked.left_record_key,
        left_records.source_name as left_source_name,
        left_records.source_record_id as left_source_record_id,
        left_customers.customer_id as left_customer_id,
        coalesce(left_links.link_count, 0) as left_link_count,
        left_records.first_name as left_first_name,
        left_records.last_name as left_last_name,
        left_records.birth_date as left_birth_date,
        left_records.email as left_email,
        left_records.phone_e164 as left_phone_e164,
        left_records.address_line_1 as left_address_line_1,
        left_records.postal_code as left_postal_code,
        left_records.city as left_city,
        ranked.right_record_key,
        right_records.source_name as right_source_name,
        right_records.source_record_id as right_source_record_id,
        right_customers.customer_id as right_customer_id,
        coalesce(right_links.link_count, 0) as right_link_count,
        right_records.first_name as right_first_name,
        right_records.last_name as right_last_name,
        right_records.birth_date as right_birth_date,
        right_records.email as right_email,
        right_records.phone_e164 as right_phone_e164,
        right_records.address_line_1 as right_address_line_1,
        right_records.postal_code as right_postal_code,
        right_records.city as right_city
    from ranked
    inner join records as left_records
        on ranked.left_record_key = left_records.record_key
    inner join records as right_records
        on ranked.right_record_key = right_records.record_key
    left join source_records as left_customers
        on ranked.left_record_key = left_customers.record_key
    left join source_records as right_customers
        on ranked.right_record_key = right_customers.record_key
    left join record_links as left_links
        on ranked.left_record_key = left_links.record_key
    left join record_links as right_links
        on ranked.right_record_key = right_links.record_key
    where ranked.kind_rank = 1

)

select * from final
