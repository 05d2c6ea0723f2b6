<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shows an RSS 2.0 or Atom 1.0 feed of 業務合理化便り / DX日記 as a readable page when someone opens the feed
  in a browser, and tells them what a feed is for. Everything it needs is inline: no outside hosts.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/"
    exclude-result-prefixes="atom media">

  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="description" select="rss/channel/description | atom:feed/atom:subtitle"/>
    <xsl:variable name="home"
        select="rss/channel/link | atom:feed/atom:link[@rel = 'alternate' or not(@rel)]/@href"/>
    <xsl:variable name="self"
        select="rss/channel/atom:link[@rel = 'self']/@href | atom:feed/atom:link[@rel = 'self']/@href"/>
    <html lang="ja">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta http-equiv="Content-Security-Policy"
            content="default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: http:"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$title"/>（フィード）</title>
        <style>
          :root { color-scheme: light dark; --accent: #1a5fb4; --muted: #5e5c64; --line: #d0d0d8; }
          @media (prefers-color-scheme: dark) { :root { --accent: #8fb8ff; --muted: #b0b0b8; --line: #444; } }
          body { margin: 0; font-family: system-ui, -apple-system, "Hiragino Sans", "Hiragino Kaku Gothic ProN",
                 "Yu Gothic UI", Meiryo, sans-serif; line-height: 1.8; }
          main { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
          a { color: var(--accent); }
          .notice { border: 2px solid var(--accent); border-radius: .5rem; padding: .75rem 1rem; }
          .notice p { margin: .25rem 0; }
          .address { display: block; padding: .4rem .6rem; border: 1px solid var(--line); border-radius: .3rem;
                     word-break: break-all; font-size: .95rem; user-select: all; }
          h1 { font-size: 1.6rem; margin: 1.5rem 0 .25rem; }
          .entries { list-style: none; padding: 0; }
          .entries li { border-top: 1px solid var(--line); padding: 1rem 0; }
          .entries h2 { font-size: 1.15rem; margin: 0; }
          .meta { color: var(--muted); font-size: .9rem; margin: .2rem 0; }
          .tag { display: inline-block; margin-left: .5rem; }
          .entries img { max-width: 100%; height: auto; border-radius: .3rem; }
          .entries p { margin: .4rem 0; }
        </style>
      </head>
      <body>
        <main>
          <div class="notice">
            <p><strong>このページはフィード（RSS・Atom）です。</strong></p>
            <p>フィードリーダー（Outlook の RSS フィード、Feedly など）に次のアドレスを登録すると、新しい号や動画が出たときに知らせが届きます。</p>
            <xsl:if test="$self">
              <p><code class="address"><xsl:value-of select="$self"/></code></p>
            </xsl:if>
          </div>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="$description"/></p>
          <xsl:if test="$home">
            <p><a href="{$home}">サイトで読む</a></p>
          </xsl:if>
          <ol class="entries">
            <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
          </ol>
          <xsl:if test="not(rss/channel/item | atom:feed/atom:entry)">
            <p>まだ記事はありません。</p>
          </xsl:if>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta">
        <xsl:call-template name="rfc822-date">
          <xsl:with-param name="value" select="pubDate"/>
        </xsl:call-template>
        <xsl:for-each select="category">
          <span class="tag">#<xsl:value-of select="."/></span>
        </xsl:for-each>
      </p>
      <xsl:call-template name="thumbnail"/>
      <p><xsl:value-of select="description"/></p>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <h2>
        <a href="{atom:link[@rel = 'alternate' or not(@rel)]/@href}"><xsl:value-of select="atom:title"/></a>
      </h2>
      <p class="meta">
        <xsl:call-template name="iso-date">
          <xsl:with-param name="value" select="(atom:published | atom:updated)[1]"/>
        </xsl:call-template>
        <xsl:for-each select="atom:category">
          <span class="tag">#<xsl:value-of select="@term"/></span>
        </xsl:for-each>
      </p>
      <xsl:call-template name="thumbnail"/>
      <p><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>

  <xsl:template name="thumbnail">
    <xsl:variable name="src" select="(.//media:thumbnail)[1]/@url"/>
    <xsl:if test="$src">
      <p><img src="{$src}" alt="" loading="lazy" width="320"/></p>
    </xsl:if>
  </xsl:template>

  <!-- "Mon, 05 Jan 2026 09:00:00 +0900" as 2026年1月5日 -->
  <xsl:template name="rfc822-date">
    <xsl:param name="value"/>
    <xsl:if test="string-length($value) &gt;= 16">
      <xsl:variable name="month"
          select="string-length(substring-before($months, substring($value, 9, 3))) div 3 + 1"/>
      <time>
        <xsl:value-of select="concat(substring($value, 13, 4), '年', $month, '月',
                                     number(substring($value, 6, 2)), '日')"/>
      </time>
    </xsl:if>
  </xsl:template>

  <!-- "2026-01-05T09:00:00+09:00" as 2026年1月5日 -->
  <xsl:template name="iso-date">
    <xsl:param name="value"/>
    <xsl:if test="string-length($value) &gt;= 10">
      <time datetime="{$value}">
        <xsl:value-of select="concat(substring($value, 1, 4), '年', number(substring($value, 6, 2)), '月',
                                     number(substring($value, 9, 2)), '日')"/>
      </time>
    </xsl:if>
  </xsl:template>

</xsl:stylesheet>
