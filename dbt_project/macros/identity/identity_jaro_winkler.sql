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
    functions. Byte k of a text is substr(hex, 2k - 1, 2) of its UTF-8 hex.
    Spark evaluates an expression inside a lambda anew on every call, so each
    value is computed once and bound to a lambda variable: `transform` of a
    one-element array binds the two texts' hex (p.a, p.b), and another binds
    the jaro score; without that the hex encodings, and the inputs'
    normalisations, ran once per byte pair (the u sampling's 1.5 million
    comparisons ran for over 14 minutes on 2 cores and did not finish).
    `aggregate` walks the left bytes and collects, in left order, the
    position of the right byte each one matched (the first unmatched equal
    byte within the window); in that list sorted, the matched right bytes
    are in right order, so the two orders compared (zip_with) give the
    transpositions. -#}
{% macro spark__identity_jaro_winkler(left_expression, right_expression) -%}
    {%- set left_length = 'cast(length(p.a) div 2 as int)' -%}
    {%- set right_length = 'cast(length(p.b) div 2 as int)' -%}
    {%- set match_window = 'cast(greatest(greatest(' ~ left_length ~ ', ' ~ right_length ~ ') div 2 - 1, 0) as int)' -%}
    {%- set first_match -%}
        array_min(filter(
            sequence(greatest(1, i - {{ match_window }}), least({{ right_length }}, i + {{ match_window }})),
            j -> j <= {{ right_length }}
                and abs(i - j) <= {{ match_window }}
                and not array_contains(taken, j)
                and substr(p.b, 2 * j - 1, 2) = substr(p.a, 2 * i - 1, 2)
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
                    zip_with(
                        taken, array_sort(taken),
                        (x, y) -> substr(p.b, 2 * x - 1, 2) <> substr(p.b, 2 * y - 1, 2)
                    ),
                    out_of_order -> out_of_order
                )) div 2) / size(taken)
            ) / 3
        )
    {%- endset -%}
    {%- set shortest = 'least(4, ' ~ left_length ~ ', ' ~ right_length ~ ')' -%}
    {%- set prefix -%}
        coalesce(
            array_min(filter(
                sequence(1, {{ shortest }}),
                k -> substr(p.a, 2 * k - 1, 2) <> substr(p.b, 2 * k - 1, 2)
            )) - 1,
            {{ shortest }}
        )
    {%- endset -%}
    transform(
        array(named_struct(
            'a', hex(encode({{ left_expression }}, 'UTF-8')),
            'b', hex(encode({{ right_expression }}, 'UTF-8'))
        )),
        p -> case
            when p.a is null or p.b is null then null
            when p.a = '' or p.b = '' then cast(0 as double)
            else aggregate(
                sequence(1, {{ left_length }}),
                cast(array() as array<int>),
                (taken, i) -> concat(taken, array_compact(array({{ first_match }}))),
                taken -> transform(
                    array({{ jaro }}),
                    jaro -> if(
                        jaro > cast(0.7 as double),
                        jaro + cast({{ prefix }} as double) * cast(0.1 as double) * (1 - jaro),
                        jaro
                    )
                )[0]
            )
        end
    )[0]
{%- endmacro %}
