// ui/ConceptPanel without a model or a window: what a restored picture selects. A module is matched by
// its identity (name, base model, file hash), so when the user's folder and the shipped folder both
// hold "a woman" the picture gets the one it was made with, and the panel says so when that module is
// not installed.
#include <QLineEdit>
#include <QSlider>
#include <QSignalSpy>
#include <QTest>

#include "core/pipeline/generation_parameters.h"
#include "core/respo/selection.h"
#include "ui/concept_panel.h"
#include "ui/concept_selection_model.h"

using respo::concepts::Selection;
using respo::gpu::ConceptInfo;

namespace {

ConceptInfo module(const std::string& name, const std::string& group, const std::string& file, char hashDigit) {
  ConceptInfo c;
  c.file = file;
  c.settings.name = name;
  c.settings.group = group;
  c.settings.kind = group == "safety" ? respo::concepts::ConceptKind::Safety : respo::concepts::ConceptKind::Fairness;
  c.fingerprint = "f00dfeedf00dfeed";
  c.fileHash = std::string(64, hashDigit);
  c.hShape = {1, 8, 4, 4};
  c.fits = true;
  return c;
}

// The parameters text a picture made with `modules` carries, read back as the app reads it.
Selection restored(const Selection& made) {
  respo::pipeline::GenerationRequest request;
  request.prompt = "a photo of a firefighter";
  const std::string text = respo::pipeline::formatParameters(request, "model", made.toParameters());
  std::map<std::string, std::string> extra;
  respo::pipeline::parseParameters(text, &extra);
  return Selection::fromParameters(extra);
}

}  // namespace

class TestConceptPanel : public QObject {
  Q_OBJECT
  // The user's "a woman" is listed first (as the library lists the user's folder first).
  const ConceptInfo user_ = module("a woman", "gender", "/user/concepts/a_woman.safetensors", 'a');
  const ConceptInfo shipped_ = module("a woman", "gender", "/shipped/concepts/a_woman.safetensors", 'b');
  const ConceptInfo man_ = module("a man", "gender", "/shipped/concepts/a_man.safetensors", 'c');
  const ConceptInfo blood_ = module("blood", "safety", "/shipped/concepts/blood.safetensors", 'd');

  std::vector<ConceptInfo> installed() const { return {user_, shipped_, man_, blood_}; }

 private Q_SLOTS:
  void theModelAloneHoldsTheSelection() {
    respo::ui::ConceptSelectionModel model;
    auto stranger = module("a stranger", "gender", "/user/concepts/stranger.safetensors", 'e');
    stranger.fits = false;
    stranger.reason = "trained on another model";
    auto list = installed();
    list.push_back(stranger);
    model.setConcepts(list);
    QCOMPARE(model.rowCount(), 3);  // Fairness, Safety, Cannot be read
    QCOMPARE(model.conceptCount(), 5);
    const auto fairness = model.index(0, 0);
    QCOMPARE(model.rowCount(fairness), 1);
    const auto gender = model.index(0, 0, fairness);
    QCOMPARE(gender.data().toString(), QString("gender"));
    QCOMPARE(model.rowCount(gender), 4);
    const auto shipped = model.index(1, 0, gender);
    QCOMPARE(shipped.data(respo::ui::ConceptSelectionModel::FileRole).toString(), QString("/shipped/concepts/a_woman.safetensors"));
    QSignalSpy edited(&model, &respo::ui::ConceptSelectionModel::edited);
    QVERIFY(model.setData(shipped, Qt::Checked, Qt::CheckStateRole));
    QCOMPARE(edited.count(), 1);
    model.setStrength(shipped.siblingAtColumn(respo::ui::ConceptSelectionModel::RamColumn), 80);
    model.setStrength(shipped.siblingAtColumn(respo::ui::ConceptSelectionModel::SamColumn), 400);  // clamped to 150
    // A module that does not fit cannot be switched on, and is shown with the reason.
    const auto unusable = model.index(3, 0, gender);
    QVERIFY(!(model.flags(unusable) & Qt::ItemIsEnabled));
    QVERIFY(!model.setData(unusable, Qt::Checked, Qt::CheckStateRole));
    QCOMPARE(unusable.data().toString(), QString("a stranger (not for this model)"));
    // Policies: the group's members, and nothing else.
    QVERIFY(!model.setData(gender.siblingAtColumn(respo::ui::ConceptSelectionModel::RamColumn), "fixed:a stranger"));
    QVERIFY(model.setData(gender.siblingAtColumn(respo::ui::ConceptSelectionModel::RamColumn), "fixed:a man"));
    QVERIFY(!model.setData(gender.siblingAtColumn(respo::ui::ConceptSelectionModel::SamColumn), -1.0));
    const auto s = model.selection();
    QCOMPARE(s.modules.size(), std::size_t{1});
    QCOMPARE(s.modules[0].file, shipped_.file);
    QCOMPARE(s.modules[0].ramStrength, 0.8);
    QCOMPARE(s.modules[0].samStrength, 1.5);
    QCOMPARE(s.groups.at("gender").policy, respo::concepts::FairnessPolicy::Fixed);
    QCOMPARE(s.groups.at("gender").fixedMember, std::string("a man"));
    // A refreshed library keeps what the user set, by file.
    model.setConcepts(list);
    QCOMPARE(restored(model.selection()).toParameters(), restored(s).toParameters());
  }

  void theSelectionNamesEachModuleByIdentityAndFile() {
    respo::ui::ConceptPanel panel;
    panel.setConcepts(installed());
    QCOMPARE(panel.conceptCount(), 4);
    QVERIFY(panel.selection().empty());
    QVERIFY(panel.setConceptEnabled("blood", true));
    const Selection s = panel.selection();
    QCOMPARE(s.modules.size(), std::size_t{1});
    QCOMPARE(s.modules[0].file, blood_.file);
    QVERIFY(s.modules[0].id.matches(blood_.identity()));
    QCOMPARE(s.modules[0].ramStrength, 1.0);
    QCOMPARE(s.modules[0].samStrength, 1.0);
  }

  void aRestoredPictureSelectsTheExactModuleOfTwoWithOneName() {
    for (const ConceptInfo* madeWith : {&shipped_, &user_}) {
      Selection made;
      made.modules.push_back({madeWith->identity(), madeWith->file, 0.8, 1.2});
      respo::ui::ConceptPanel panel;
      panel.setConcepts(installed());
      const QStringList notes = panel.applySelection(restored(made));
      QVERIFY2(notes.isEmpty(), qPrintable(notes.join("; ")));
      const Selection now = panel.selection();
      QCOMPARE(now.modules.size(), std::size_t{1});
      QCOMPARE(QString::fromStdString(now.modules[0].file.string()), QString::fromStdString(madeWith->file.string()));
      QCOMPARE(now.modules[0].id.fileHash, madeWith->fileHash);
      QCOMPARE(now.modules[0].ramStrength, 0.8);
      QCOMPARE(now.modules[0].samStrength, 1.2);
    }
  }

  void aModuleThatIsNotInstalledIsLeftOffAndNamed() {
    Selection made;
    made.modules.push_back({module("a woman", "gender", "/elsewhere/a_woman.safetensors", 'e').identity(), {}, 1, 1});
    made.modules.push_back({blood_.identity(), blood_.file, 1, 1});
    made.modules.push_back({module("knife", "safety", "/elsewhere/knife.safetensors", 'f').identity(), {}, 1, 1});
    respo::ui::ConceptPanel panel;
    panel.setConcepts(installed());
    const QStringList notes = panel.applySelection(restored(made));
    QCOMPARE(notes.size(), 2);
    // Same name, other file: not silently swapped for the installed one.
    QVERIFY2(notes[0].contains("'a woman' (hash eeeeeeeeee): a different module of that name is installed"),
             qPrintable(notes[0]));
    QVERIFY2(notes[1].contains("'knife' (hash ffffffffff) is not installed"), qPrintable(notes[1]));
    const Selection now = panel.selection();
    QCOMPARE(now.modules.size(), std::size_t{1});
    QCOMPARE(now.modules[0].file, blood_.file);
  }

  void aPictureWithoutHashesMatchesByNameAndSaysWhichItTook() {
    // Pictures written before hashes were recorded: the name decides, the user's folder first.
    Selection made;
    made.modules.push_back({{"a woman", "", ""}, {}, 1, 1});
    respo::ui::ConceptPanel panel;
    panel.setConcepts(installed());
    const QStringList notes = panel.applySelection(restored(made));
    QCOMPARE(notes.size(), 1);
    QVERIFY2(notes[0].contains("several modules have that name; took /user/concepts/a_woman.safetensors"),
             qPrintable(notes[0]));
    QCOMPARE(panel.selection().modules.at(0).file, user_.file);
  }

  void restoringSwitchesEverythingElseOffAndSetsTheGroupPolicy() {
    respo::ui::ConceptPanel panel;
    panel.setConcepts(installed());
    QVERIFY(panel.setConceptEnabled("blood", true));
    QVERIFY(panel.setConceptEnabled("a man", true));
    Selection made;
    made.modules.push_back({man_.identity(), man_.file, 1, 1});
    made.modules.push_back({shipped_.identity(), shipped_.file, 1, 1});
    made.groups["gender"].policy = respo::concepts::FairnessPolicy::Fixed;
    made.groups["gender"].fixedMember = "a man";
    made.groups["gender"].weight = 0.6;
    QVERIFY(panel.applySelection(restored(made)).isEmpty());
    const Selection now = panel.selection();
    QCOMPARE(now.modules.size(), std::size_t{2});
    for (const auto& m : now.modules) QVERIFY(m.file == man_.file || m.file == shipped_.file);
    QCOMPARE(now.groups.at("gender").policy, respo::concepts::FairnessPolicy::Fixed);
    QCOMPARE(now.groups.at("gender").fixedMember, std::string("a man"));
    QCOMPARE(now.groups.at("gender").weight, 0.6);
    // And the panel's own selection survives the same round trip unchanged.
    respo::ui::ConceptPanel again;
    again.setConcepts(installed());
    QVERIFY(again.applySelection(restored(now)).isEmpty());
    QCOMPARE(restored(again.selection()).toParameters(), restored(now).toParameters());
  }

  void aGroupsTargetSharesAreTypedRestoredAndRefusedWhenWrong() {
    respo::ui::ConceptPanel panel;
    panel.setConcepts(installed());
    QVERIFY(panel.setConceptEnabled("a man", true));
    QSignalSpy edited(&panel, &respo::ui::ConceptPanel::conceptsEdited);
    auto* target = panel.findChild<QLineEdit*>("target:gender");
    QVERIFY(target);
    QCOMPARE(target->placeholderText(), QString("even"));
    target->setText("a woman=30, a man=70");
    Q_EMIT target->editingFinished();
    QCOMPARE(edited.count(), 1);
    auto shares = panel.selection().groups.at("gender").shares;
    QCOMPARE(shares.size(), std::size_t{2});
    QCOMPARE(shares[0].first, std::string("a woman"));
    QCOMPARE(shares[1].second, 70.0);
    // A member the group lacks, or text that is not member=share, changes nothing and says so.
    target->setText("a woman=30, a child=70");
    Q_EMIT target->editingFinished();
    QVERIFY(target->styleSheet().contains("background"));
    target->setText("half and half");
    Q_EMIT target->editingFinished();
    QCOMPARE(panel.selection().groups.at("gender").shares, shares);
    QCOMPARE(edited.count(), 1);
    // A restored picture brings its target; the editor shows it.
    Selection made = panel.selection();
    made.groups["gender"].shares = {{"a man", 1}, {"a woman", 3}};
    QVERIFY(panel.applySelection(restored(made)).isEmpty());
    QCOMPARE(target->text(), QString("a man=1, a woman=3"));
    QVERIFY(target->styleSheet().isEmpty());
    QCOMPARE(panel.selection().groups.at("gender").shares, made.groups["gender"].shares);
    // One naming a member that is not installed draws evenly, with a note.
    made.groups["gender"].shares = {{"a child", 1}};
    QCOMPARE(panel.applySelection(restored(made)).size(), qsizetype{1});
    QVERIFY(panel.selection().groups.at("gender").shares.empty());
    // Cleared: even again.
    target->setText("");
    Q_EMIT target->editingFinished();
    QVERIFY(panel.selection().groups.at("gender").shares.empty());
  }
};

QTEST_MAIN(TestConceptPanel)
#include "test_concept_panel.moc"
