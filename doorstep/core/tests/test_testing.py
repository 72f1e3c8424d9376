"""The test helper that reads what a page announces as an alert."""

from __future__ import annotations

from doorstep.core.testing import alerts


def test_alerts_reads_each_alert_whole_and_nothing_else() -> None:
    html = (
        '<main><p role="status">已保存。</p>'
        '<div class="errors" role="alert"><p>请改正：</p><ul><li>名称：必填。</li></ul></div>'
        '<p><label>电话<input name="phone"></label><br>'
        '<span class="error" role="alert">号码&lt;不对&gt;。</span></p></main>'
    )
    assert alerts(html) == ["请改正：名称：必填。", "号码<不对>。"]
    assert alerts("<p>没有提示</p>") == []
