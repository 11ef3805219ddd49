{#- Jaro-Winkler similarity of two texts, 0 (nothing alike) to 1 (equal);
    null when either is null. Every version gives DuckDB's scores to the last
    bit, so matching links the same records on every engine. DuckDB's
    jaro_winkler_similarity() compares the UTF-8 bytes (not the letters):
    matches are equal bytes at most max(length) / 2 - 1 positions apart,
    taken greedily left to right; jaro = (m / |a| + m / |b| + (m - t) / m) / 3
    with t half the matched bytes out of order (rounded down), 0 without
    matches or for an empty text; above 0.7 it is raised by
    prefix * 0.1 * (1 - jaro), prefix = equal leading bytes (at most 4). -#}
{% macro identity_jaro_winkler(left_expression, right_expression) -%}
    {{ return(adapter.dispatch('identity_jaro_winkler', 'cdp')(left_expression, right_expression)) }}
{%- endmacro %}

{% macro default__identity_jaro_winkler(left_expression, right_expression) -%}
    jaro_winkler_similarity({{ left_expression }}, {{ right_expression }})
{%- endmacro %}

{#- PostgreSQL has no Jaro-Winkler (fuzzystrmatch stops at levenshtein): the
    PL/pgSQL function installed by identity_install_functions. -#}
{% macro postgres__identity_jaro_winkler(left_expression, right_expression) -%}
    {{ generate_schema_name('intermediate', none) | trim }}.cdp_jaro_winkler_similarity(
        {{ left_expression }}, {{ right_expression }}
    )
{%- endmacro %}

{#- Spark has none either: the same steps in SQL with higher-order
    functions, nested as little as possible (Spark's analyzer needs more
    passes for every level of lambdas; the match rules use this several
    times in one query). Byte k of a text is substr(hex, 2k - 1, 2) of its
    UTF-8 hex. `aggregate` walks the left bytes and collects, in left order,
    the position of the right byte each one matched; in that list sorted the
    matched right bytes are in right order, so the two orders compared give
    the transpositions. -#}
{% macro spark__identity_jaro_winkler(left_expression, right_expression) -%}
    {%- set left_hex = 'hex(encode(' ~ left_expression ~ ", 'UTF-8'))" -%}
    {%- set right_hex = 'hex(encode(' ~ right_expression ~ ", 'UTF-8'))" -%}
    {%- set left_length = 'octet_length(' ~ left_expression ~ ')' -%}
    {%- set right_length = 'octet_length(' ~ right_expression ~ ')' -%}
    {%- set match_window = 'greatest(greatest(' ~ left_length ~ ', ' ~ right_length ~ ') div 2 - 1, 0)' -%}
    {%- set first_match -%}
        array_min(filter(
            sequence(1, {{ right_length }}),
            j -> abs(i - j) <= {{ match_window }}
                and not array_contains(taken, j)
                and substr({{ right_hex }}, 2 * j - 1, 2) = substr({{ left_hex }}, 2 * i - 1, 2)
        ))
    {%- endset -%}
    {%- set jaro -%}
        if(
            size(taken) = 0,
            cast(0 as double),
            (
                size(taken) / {{ left_length }}
                + size(taken) / {{ right_length }}
                + (size(taken) - size(filter(
                    sequence(1, size(taken)),
                    k -> substr({{ right_hex }}, 2 * taken[k - 1] - 1, 2)
                        <> substr({{ right_hex }}, 2 * array_sort(taken)[k - 1] - 1, 2)
                )) div 2) / size(taken)
            ) / 3
        )
    {%- endset -%}
    {%- set shortest = 'least(4, ' ~ left_length ~ ', ' ~ right_length ~ ')' -%}
    {%- set prefix -%}
        coalesce(
            array_min(filter(
                sequence(1, {{ shortest }}),
                k -> substr({{ left_hex }}, 2 * k - 1, 2) <> substr({{ right_hex }}, 2 * k - 1, 2)
            )) - 1,
            {{ shortest }}
        )
    {%- endset -%}
    case
        when {{ left_expression }} is null or {{ right_expression }} is null then null
        when {{ left_length }} = 0 or {{ right_length }} = 0 then cast(0 as double)
        else aggregate(
            sequence(1, {{ left_length }}),
            cast(array() as array<int>),
            (taken, i) -> concat(taken, array_compact(array({{ first_match }}))),
            taken -> if(
                {{ jaro }} > cast(0.7 as double),
                {{ jaro }} + cast({{ prefix }} as double) * cast(0.1 as double) * (1 - {{ jaro }}),
                {{ jaro }}
            )
        )
    end
{%- endmacro %}
