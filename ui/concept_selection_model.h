#pragma once
// The concept library as the user has set it up, as a tree model over the selection type:
//   Fairness > <group> (policy, weight) > <member module> (on/off, RAM %, SAM %)
//   Safety > <module> (on/off, RAM %, SAM %)
//   Cannot be read > <file> (why)
// Columns: name (checkable for usable modules), RAM, SAM, target; a group row carries its policy in
// the RAM column, its weight in the SAM column and its target shares ("a woman=30, a man=70"; empty:
// even) in the target column. The model holds the state the concept panel shows and
// computes the Selection from it, so everything the panel decides is testable without a window.
#include <QAbstractItemModel>
#include <QStringList>
#include <map>
#include <optional>
#include <vector>

#include "core/respo/selection.h"
#include "gpu/generation_service.h"

namespace respo::ui {

class ConceptSelectionModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, RamColumn, SamColumn, TargetColumn, ColumnCount };
  // KindRole: "category", "group", "module", "unreadable"; NameRole: the name without a note.
  enum Role { FileRole = Qt::UserRole, KindRole, NameRole };
  static constexpr int kDefaultPercent = 100;
  static constexpr int kMaxPercent = 150;

  explicit ConceptSelectionModel(QObject* parent = nullptr);

  // Lists `concepts`, keeping the checks and strengths of modules listed before (by file) and the
  // policies and weights of groups (by name). Resets the model.
  void setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts);
  int conceptCount() const;  // module rows, usable or not (not the unreadable files)

  respo::concepts::Selection selection() const;
  std::map<std::string, respo::concepts::GroupOptions> groupOptions() const;
  // See ConceptPanel::applySelection. Emits dataChanged, not edited().
  QStringList applySelection(const respo::concepts::Selection& selection);
  // Switches one usable module on or off by name (as a user's click: emits edited()).
  bool setConceptEnabled(const QString& name, bool enabled);

  // A module row's strength (RAM or SAM column), in percent 0..kMaxPercent.
  void setStrength(const QModelIndex& index, int percent);
  int strength(const QModelIndex& index) const;
  // A group row's policy key ("random", "balanced", "fixed:<member>") and weight; the choices a
  // group offers (keys and labels).
  void setGroupPolicy(const QModelIndex& index, const QString& key);
  void setGroupWeight(const QModelIndex& index, double weight);
  QString groupPolicy(const QModelIndex& index) const;
  double groupWeight(const QModelIndex& index) const;
  QList<QPair<QString, QString>> policyChoices(const QModelIndex& index) const;
  // A group's target shares for its random and balanced policies (member name, share; empty:
  // uniform). Returns false (and changes nothing) for a member the group lacks or shares that are
  // negative or add up to nothing.
  bool setGroupShares(const QModelIndex& index, const std::vector<std::pair<std::string, double>>& shares);
  std::vector<std::pair<std::string, double>> groupShares(const QModelIndex& index) const;
  // Target shares as the target column shows them ("a woman=30, a man=70"), and back (nullopt when
  // the text cannot be read).
  static QString sharesText(const std::vector<std::pair<std::string, double>>& shares);
  static std::optional<std::vector<std::pair<std::string, double>>> parseShares(const QString& text);
  QString kind(const QModelIndex& index) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 Q_SIGNALS:
  // The user switched a module on or off (through setData or setConceptEnabled).
  void edited();

 private:
  enum class Kind { Category, Group, Module, Unreadable };
  struct Node {
    Kind kind = Kind::Category;
    int parent = -1;
    std::vector<int> children;
    QString name;
    respo::gpu::ConceptInfo info;  // modules and unreadable files
    bool checked = false;
    int ram = kDefaultPercent, sam = kDefaultPercent;
    QString policy = QStringLiteral("random");  // groups
    double weight = 1.0;
    std::vector<std::pair<std::string, double>> shares;  // groups: target shares (empty: uniform)
    QStringList members;  // groups: the usable members' names
  };
  int nodeOf(const QModelIndex& index) const;
  int rowOf(int node) const;
  int add(Kind kind, int parent, QString name);
  std::vector<int> modules() const;

  std::vector<Node> nodes_;
  std::vector<int> top_;  // Fairness, Safety, Cannot be read
};

}  // namespace respo::ui
