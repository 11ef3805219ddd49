{#- Every link between two records, with the rule that made it and its score.
    The match rules are not in this file: they are the ordered list under
    config.meta.identity of this model (_identity__match_rules.yml), compiled
    to SQL by identity_rule_pairs. Analyst overrides from the seeds are
    applied last: identity_always_match adds a link; identity_never_match
    (first, second) detaches the second record from every rule-made link, so
    it can never end up with the first through a chain (link it back to
    the right records with always-match rows). A pair linked by several rules
    keeps the first rule in order. Rules with max_people_per_value read how
    many people hold the email or phone from int_identity_identifier_people.
    With feed_edges on (_identity__probabilistic.yml), the Fellegi-Sunter
    pairs at or above the threshold that pass the conflict guard (is_edge)
    are edges of rule `probabilistic`. -#}
-- depends_on: {{ ref('int_identity_pairs_probabilistic') }}
{%- set identity_config = cdp.identity_match_config() %}
{%- set probabilistic = cdp.identity_fs_config() %}
{%- set strong_rules = cdp.identity_strong_rules(identity_config) %}
{%- set strong_names = strong_rules | map(attribute='name') | list %}
with

strong_pairs as (

    select * from {{ ref('int_identity_pairs_strong') }}

),

prepared_records as (

    select * from {{ ref('int_identity_records_prepared') }}

),

identifier_people as (

    select * from {{ ref('int_identity_identifier_people') }}

),

records as (

    select
        prepared_records.*,
        email_people.people_count as email_people_count,
        phone_people.people_count as phone_e164_people_count,
        secondary_phone_people.people_count as secondary_phone_e164_people_count
    from prepared_records
    left join identifier_people as email_people
        on
            email_people.identifier_type = 'email'
            and email_people.identifier_value
            = {{ cdp.identity_normalize('prepared_records.email', ['email_canonical']) }}
    left join identifier_people as phone_people
        on
            phone_people.identifier_type = 'phone'
            and prepared_records.phone_e164 = phone_people.identifier_value
    left join identifier_people as secondary_phone_people
        on
            secondary_phone_people.identifier_type = 'phone'
            and prepared_records.secondary_phone_e164
            = secondary_phone_people.identifier_value

),

name_aliases as (  -- noqa: ST03

    -- read by weak rules with the name_alias normaliser (none by default)
    select * from {{ ref('identity_name_aliases') }}

),

always_match as (

    select * from {{ ref('identity_always_match') }}

),

never_match as (

    select * from {{ ref('identity_never_match') }}

),
{%- for rule in identity_config.rules if rule.name not in strong_names %}

    {{ cdp.identity_rule_pairs(rule, identity_config.settings.max_block_size) }},
{%- endfor %}

rule_pairs as (

    select * from strong_pairs
    union all
    {%- for rule in identity_config.rules if rule.name not in strong_names %}

        select * from rule_{{ rule.name }}__pairs
        union all
    {%- endfor %}
    {%- if probabilistic.get('feed_edges') %}

        -- Fellegi-Sunter pairs at or above the threshold whose strong
        -- clusters do not conflict (is_edge; _identity__probabilistic.yml,
        -- feed_edges and conflict_guard), after every rule; the score is the
        -- pair's match probability, its weights are in
        -- int_identity_pairs_probabilistic
        select
            left_record_key,
            right_record_key,
            'probabilistic' as rule_name,
            {{ identity_config.rules | length + 1 }} as rule_order,
            cast(match_probability as real) as score
        from {{ ref('int_identity_pairs_probabilistic') }}
        where is_edge
        union all
    {%- endif %}

    select
        case
            when
                left_source_name || ':' || left_source_record_id
                < right_source_name || ':' || right_source_record_id
                then left_source_name || ':' || left_source_record_id
            else right_source_name || ':' || right_source_record_id
        end as left_record_key,
        case
            when
                left_source_name || ':' || left_source_record_id
                < right_source_name || ':' || right_source_record_id
                then right_source_name || ':' || right_source_record_id
            else left_source_name || ':' || left_source_record_id
        end as right_record_key,
        'always_match_override' as rule_name,
        0 as rule_order,
        cast(1.0 as real) as score
    from always_match

),

never_match_keys as (

    select
        left_source_name || ':' || left_source_record_id as first_record_key,
        right_source_name || ':' || right_source_record_id as second_record_key
    from never_match

),

detached_records as (

    select distinct second_record_key as record_key
    from never_match_keys

),

allowed_pairs as (

    select rule_pairs.*
    from rule_pairs
    left join detached_records as detached_left
        on rule_pairs.left_record_key = detached_left.record_key
    left join detached_records as detached_right
        on rule_pairs.right_record_key = detached_right.record_key
    where
        rule_pairs.rule_order = 0
        or (
            detached_left.record_key is null
            and detached_right.record_key is null
        )

),

ranked_pairs as (

    select
        *,
        row_number() over (
            partition by left_record_key, right_record_key
            order by rule_order asc, score desc
        ) as pair_rank
    from allowed_pairs

),

final as (

    select
        ranked_pairs.left_record_key,
        ranked_pairs.right_record_key,
        ranked_pairs.rule_name,
        ranked_pairs.rule_order,
        ranked_pairs.score
    from ranked_pairs
    where ranked_pairs.pair_rank = 1

)

select * from final
